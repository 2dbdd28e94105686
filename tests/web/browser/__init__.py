"""Browser tests: the operator web app in Debian's Chromium against a live demo server."""

"""Turning queued replies into provider sends, with retries, and recording the outcome."""

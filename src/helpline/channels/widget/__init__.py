"""The website chat widget channel: /widget.js, the visitor API under /api/v1/widget, and its adapter."""

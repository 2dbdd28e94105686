"""The operator web UI (its own issue); for now the landing page."""

"""Provider reply windows and templates; later engagement score, priority and re-engagement."""

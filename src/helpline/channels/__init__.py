"""Channels: the configured connections to providers, and one adapter folder per provider."""

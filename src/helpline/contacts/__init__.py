"""Customers (contacts) and their identities on each channel kind."""

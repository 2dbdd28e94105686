"""Operators, roles, sessions and tokens, permissions."""

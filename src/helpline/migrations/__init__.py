"""Alembic migrations (date-named), applied by `helpline db upgrade` and on `helpline serve`."""

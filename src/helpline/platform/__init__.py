"""Shared infrastructure with no business rules: database, outbox, pub/sub, HTTP, storage, crypto, clock."""

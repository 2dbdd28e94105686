"""Operating the service: health, metrics, and the outbox's dead rows."""

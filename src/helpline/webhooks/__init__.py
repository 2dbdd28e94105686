"""Outgoing webhooks: signed event deliveries to CRMs, ERPs and other systems."""

"""Files attached to messages (and logos), stored by content hash."""

"""The email channel: a mailbox read over IMAP (IDLE or polling) and answered over SMTP."""

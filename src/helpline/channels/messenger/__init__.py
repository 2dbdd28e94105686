"""The Facebook Messenger channel (kind `messenger`): one Facebook Page."""

"""The generic API channel (kind `api`): any system becomes a channel through signed JSON over HTTP."""

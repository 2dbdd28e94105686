"""The Instagram Direct channel (kind `instagram`): one Instagram professional account."""

"""What WhatsApp, Messenger and Instagram share: webhook signatures and envelopes, the Graph client, errors."""

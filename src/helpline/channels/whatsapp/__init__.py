"""The WhatsApp Cloud API channel (kind `whatsapp`): one WhatsApp Business phone number."""

"""Routing a customer message: to the bot when it handles the conversation, otherwise to the human queue."""

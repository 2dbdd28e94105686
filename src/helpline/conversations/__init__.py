"""Conversations and messages: the inbox itself."""

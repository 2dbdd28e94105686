"""Helpline: a self-hosted omnichannel customer-care platform."""

__version__ = "0.1.0"

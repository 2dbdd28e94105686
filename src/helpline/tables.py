"""Imports every domain's tables so that Base.metadata is complete (for Alembic and tests)."""

from helpline.attachments.models import Attachment
from helpline.audit.models import AuditEntry
from helpline.auth.models import AuthSession, LoginThrottle, Operator, RecoveryCode
from helpline.bot.models import Article, BotInteraction, Script, ScriptVersion
from helpline.channels.email.models import MailboxCursor, MailboxLease
from helpline.channels.models import Channel, ChannelMember
from helpline.contacts.models import Contact, ContactIdentity, ContactNote
from helpline.conversations.models import Conversation, EarlyChange, Message
from helpline.engagement.models import MessageTemplate
from helpline.platform.db import Base
from helpline.platform.outbox import OutboxRow
from helpline.privacy.models import DeletionRequest, LegalHold, RetentionPolicy
from helpline.profiles.models import Event, Profile
from helpline.webhooks.models import Webhook, WebhookDelivery

metadata = Base.metadata

__all__ = [
    "Article",
    "Attachment",
    "AuditEntry",
    "AuthSession",
    "BotInteraction",
    "Channel",
    "ChannelMember",
    "Contact",
    "ContactIdentity",
    "ContactNote",
    "Conversation",
    "DeletionRequest",
    "EarlyChange",
    "Event",
    "LegalHold",
    "LoginThrottle",
    "MailboxCursor",
    "MailboxLease",
    "Message",
    "MessageTemplate",
    "Operator",
    "OutboxRow",
    "Profile",
    "RecoveryCode",
    "RetentionPolicy",
    "Script",
    "ScriptVersion",
    "Webhook",
    "WebhookDelivery",
    "metadata",
]

"""API shapes for conversations and messages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from helpline.conversations.models import Priority, Status
from helpline.platform.api_contract import BoundedInt


class ContactBrief(BaseModel):
    id: int
    name: str | None
    avatar_url: str | None = None


class ChannelBrief(BaseModel):
    id: int
    kind: str
    name: str


class NamedLogo(BaseModel):
    id: int
    name: str
    logo_url: str | None = None


class OperatorBrief(BaseModel):
    id: int
    name: str


class LastMessage(BaseModel):
    preview: str | None
    author_kind: str | None
    author_name: str | None = Field(
        default=None, description="the contact's name, or the operator's; null for the bot and the system"
    )
    at: datetime | None


class EscalationPublic(BaseModel):
    """Why the bot handed the conversation to a person."""

    reason: str = Field(
        description="customer_request, keyword, frustration, low_confidence, failed_answers, technical_error, "
        "tag_rule, window_closed or reply_limit"
    )
    detail: str | None = Field(description="e.g. the keyword or the tags that matched")
    params: dict[str, Any] = Field(
        default_factory=dict,
        description='the reason\'s facts as data, to word on screen: {"count": n} for low_confidence, '
        '{"step": key, "step_label": question} for failed_answers',
    )
    at: datetime | None


class WindowState(BaseModel):
    state: Literal["open", "closing", "closed"]
    expires_at: datetime | None
    human_expires_at: datetime | None = None


class ConversationPublic(BaseModel):
    id: int
    status: Status
    handler: Literal["bot", "human"]
    priority: Priority
    tags: list[str]
    contact: ContactBrief
    channel: ChannelBrief
    profile: NamedLogo | None
    event: NamedLogo | None
    assignee: OperatorBrief | None
    last_message: LastMessage
    unread_count: int
    window: WindowState | None
    snoozed_until: datetime | None
    last_inbound_at: datetime | None
    last_activity_at: datetime
    created_at: datetime
    waiting_since: datetime | None = Field(
        default=None,
        description="set while the conversation waits for a human (a person handles it, it is open or pending, "
        "and the customer's message or the escalation is unanswered): when that wait began",
    )
    escalation: EscalationPublic | None = Field(
        default=None, description="the bot's hand-off while a person handles the conversation it escalated"
    )
    language: str | None = Field(
        default=None, description="detected by the bot, else the contact's `language` attribute; null if unknown"
    )


class ConversationPage(BaseModel):
    items: list[ConversationPublic]
    next_cursor: str | None


class ChannelCounts(BaseModel):
    channel_id: int
    waiting: int = Field(description="waiting for a human")
    bot: int = Field(description="the bot handles them (open or pending)")
    closing_soon: int = Field(description="reply window closing (open or pending)")


class OperatorCounts(BaseModel):
    operator_id: int
    name: str
    open: int = Field(description="assigned to this operator, open or pending")
    waiting: int = Field(description="assigned to this operator and waiting for a human")


class ConversationCounts(BaseModel):
    """Sidebar and Team-page numbers, restricted to what the operator may see."""

    presets: dict[str, int] = Field(
        description="all, mine_open, waiting, bot, closing_soon, snoozed, resolved → number of conversations"
    )
    preset_queries: dict[str, str] = Field(
        description="the GET /conversations query string listing each preset's conversations"
    )
    channels: list[ChannelCounts] = Field(description="channels with at least one visible conversation")
    operators: list[OperatorCounts] = Field(
        default=[], description="operators with at least one visible open or pending conversation assigned"
    )
    oldest_waiting_since: datetime | None = Field(description="the longest current wait for a human began then")


class AttachmentPublic(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    state: str
    error: str | None = None
    url: str


class MessagePublic(BaseModel):
    id: int
    conversation_id: int
    direction: Literal["inbound", "outbound"]
    author_kind: Literal["contact", "bot", "operator", "system"]
    operator: OperatorBrief | None
    text: str | None
    content_type: str
    content: dict[str, Any]
    attachments: list[AttachmentPublic]
    delivery_state: str
    error_code: str | None
    error_reason: str | None
    provider_message_id: str | None
    provider_timestamp: datetime | None
    occurred_at: datetime = Field(
        description="the message's place in the timeline: the provider's time for what a provider reports "
        "(capped at when Helpline stored it), Helpline's time for what Helpline writes"
    )
    reply_to_id: int | None
    client_id: str | None = Field(default=None, description="the id the sending client chose, echoed back")
    created_at: datetime
    updated_at: datetime


class MessagePage(BaseModel):
    items: list[MessagePublic]
    next_cursor: str | None = Field(description="pass as `cursor` to get the older page")


class TemplateParameter(BaseModel):
    """A template parameter given as an object: text, a header image / video / document by link or media id,
    or a header location (latitude, longitude, optional name and address)."""

    type: Literal["text", "image", "video", "document", "location"] = "text"
    text: str | None = Field(default=None, max_length=2000)
    link: str | None = Field(default=None, max_length=2000)
    id: str | None = Field(default=None, max_length=128)
    filename: str | None = Field(default=None, max_length=255)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    name: str | None = Field(default=None, max_length=1000)
    address: str | None = Field(default=None, max_length=1000)


class TemplateSend(BaseModel):
    """An approved provider template: what opens a closed WhatsApp window."""

    name: str = Field(min_length=1, max_length=512)
    language: str | None = Field(default=None, max_length=16, description="e.g. en_US; optional when only one")
    parameters: list[str | TemplateParameter] = Field(default_factory=list, max_length=50)


CLIENT_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"


class ReplyCreate(BaseModel):
    text: str | None = Field(default=None, max_length=20_000)
    reply_to_id: BoundedInt | None = None
    template: TemplateSend | None = None
    client_id: str | None = Field(
        default=None,
        max_length=64,
        pattern=CLIENT_ID_PATTERN,
        description="chosen by the client (letters, digits, . _ : -; ≤ 64); sending again with the same id in "
        "the same conversation returns the first message (200) instead of sending twice",
    )


# A tag as an operator types it: surrounding spaces do not count; a longer one is refused, never cut.
Tag = Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)]


class ConversationUpdate(BaseModel):
    event_id: BoundedInt | None = None
    priority: Priority | None = None
    tags: list[Tag] | None = Field(default=None, max_length=50, description="at most 50 tags of ≤ 50 characters")


class AssignRequest(BaseModel):
    operator_id: BoundedInt | None


class SnoozeRequest(BaseModel):
    until: datetime

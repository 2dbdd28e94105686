"""Tables of the front line: scripts and their versions, knowledge articles, the interaction log, script runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helpline.platform.db import Base, BigId, IdMixin, TimestampMixin


class Script(IdMixin, TimestampMixin, Base):
    """A service script; its content lives in immutable versions, this row points at the current one."""

    __tablename__ = "bot_scripts"

    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    current_version: Mapped[int] = mapped_column(default=1)
    # Sealed with the secret box: signs the end-action POST so the receiver can trust it.
    end_action_secret: Mapped[str | None] = mapped_column(Text)


class ScriptVersion(IdMixin, TimestampMixin, Base):
    """One immutable snapshot of a script: a running conversation keeps the version it started with."""

    __tablename__ = "bot_script_versions"
    __table_args__ = (UniqueConstraint("script_id", "version"),)

    script_id: Mapped[int] = mapped_column(BigId, ForeignKey("bot_scripts.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    definition: Mapped[dict[str, Any]]
    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("operators.id", ondelete="SET NULL"))


class Article(IdMixin, TimestampMixin, Base):
    """A knowledge-base entry the bot may answer from."""

    __tablename__ = "bot_articles"

    title: Mapped[str] = mapped_column(String(300))
    answer: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(default=list)
    language: Mapped[str] = mapped_column(String(16), default="en")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class BotInteraction(IdMixin, TimestampMixin, Base):
    """Everything the bot decided for a conversation, in order: operators read it to see why."""

    __tablename__ = "bot_interactions"
    __table_args__ = (Index("ix_bot_interactions_conversation", "conversation_id", "id"),)

    conversation_id: Mapped[int] = mapped_column(BigId, ForeignKey("conversations.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("messages.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ScriptRun(IdMixin, TimestampMixin, Base):
    """One run of a script in a conversation and the answers it collected; a later script gets its own row.

    `status`: running, completed, escalated (handed to a person before the end) or replaced (another script
    started). `end` is the script's end (close, case, webhook); `end_status` the webhook's outcome (sent or
    failed), null otherwise."""

    __tablename__ = "bot_script_runs"
    __table_args__ = (Index("ix_bot_script_runs_conversation", "conversation_id", "id"),)

    conversation_id: Mapped[int] = mapped_column(BigId, ForeignKey("conversations.id", ondelete="CASCADE"))
    script_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("bot_scripts.id", ondelete="SET NULL"))
    script_key: Mapped[str] = mapped_column(String(100))
    script_name: Mapped[str] = mapped_column(String(200))
    script_version: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="running")
    end: Mapped[str] = mapped_column(String(16), default="close")
    end_status: Mapped[str | None] = mapped_column(String(16))
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    finished_at: Mapped[datetime | None]

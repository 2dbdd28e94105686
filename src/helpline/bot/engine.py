"""The fitted models the bot serves from: script matcher and article index, rebuilt in the background
when scripts or articles change while the previous build keeps serving."""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select

from helpline.bot.knowledge import ArticleDoc, Retriever
from helpline.bot.models import Article, Script, ScriptVersion
from helpline.bot.schemas import ScriptDefinition
from helpline.platform.db import Database

log = logging.getLogger(__name__)
DRAFT_BUILDS_KEPT = 4


class Matcher(Protocol):
    """The shape of helpline.bot.matching.ScriptMatcher, restated so this module does not import it."""

    method: str

    def fit(self, examples: Sequence[tuple[str, str]]) -> None: ...
    def rank(self, text: str, k: int = 3) -> list[tuple[str, float]]: ...
    def is_out_of_scope(self, text: str) -> bool: ...


MatcherFactory = Callable[[], Matcher]


def default_matcher_factory() -> Matcher:
    """The product's matcher (helpline.bot.matching), imported late so the bot runs without it."""
    module: Any = importlib.import_module("helpline.bot.matching")
    matcher: Matcher = module.default_matcher()
    return matcher


@dataclass(frozen=True)
class ScriptEntry:
    id: int
    key: str
    name: str
    version: int
    definition: ScriptDefinition


@dataclass
class Snapshot:
    """One consistent build: what the matcher was trained on is what the runner can start."""

    fingerprint: tuple[Any, ...]
    scripts: dict[str, ScriptEntry] = field(default_factory=dict)
    matcher: Matcher | None = None
    retriever: Retriever = field(default_factory=lambda: Retriever([]))
    error: str | None = None

    @property
    def method(self) -> str | None:
        return self.matcher.method if self.matcher else None


class Engine:
    def __init__(self, db: Database, matcher_factory: MatcherFactory | None = None) -> None:
        self.db = db
        self.matcher_factory = matcher_factory or default_matcher_factory
        self._snapshot: Snapshot | None = None
        self._building: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        # Builds with an unsaved draft script (the try-it console), newest last; small, since each holds models.
        self._drafts: dict[tuple[Any, ...], Snapshot] = {}

    async def _fingerprint(self) -> tuple[Any, ...]:
        # One cheap query per message: any create, update or delete changes a count or a newest stamp.
        async with self.db.reads() as session:
            scripts = (await session.execute(select(func.count(), func.max(Script.updated_at)))).one()
            articles = (await session.execute(select(func.count(), func.max(Article.updated_at)))).one()
        return (scripts[0], _stamp(scripts[1]), articles[0], _stamp(articles[1]))

    async def current(self) -> Snapshot:
        """The serving build; the first call builds synchronously, later changes rebuild in the background."""
        fingerprint = await self._fingerprint()
        if self._snapshot is None:
            await self.rebuild(fingerprint)
        elif fingerprint != self._snapshot.fingerprint and (self._building is None or self._building.done()):
            self._building = asyncio.create_task(self.rebuild(fingerprint), name="bot-retrain")
        assert self._snapshot is not None
        return self._snapshot

    async def refresh(self) -> Snapshot:
        """Rebuild now and wait (tests, the CLI and the admin API after an import)."""
        await self.rebuild(await self._fingerprint())
        assert self._snapshot is not None
        return self._snapshot

    async def with_draft(self, draft: ScriptEntry, *, only: bool = False) -> Snapshot:
        """A build in which `draft` replaces the saved script of its key (or joins them; with `only`, it is the
        sole script), trained exactly as the serving build is. The serving build is untouched; the last few
        draft builds are kept, so stepping through one draft trains once."""
        base = await self.current()
        key = (base.fingerprint, only, draft.key, draft.id, draft.definition.model_dump_json())
        cached = self._drafts.pop(key, None)
        if cached is None:
            scripts = [draft] if only else [*(s for k, s in base.scripts.items() if k != draft.key), draft]
            cached = await asyncio.to_thread(
                self._fit, ("draft", *base.fingerprint), scripts, list(base.retriever.articles)
            )
        self._drafts[key] = cached
        while len(self._drafts) > DRAFT_BUILDS_KEPT:
            self._drafts.pop(next(iter(self._drafts)))
        return cached

    async def rebuild(self, fingerprint: tuple[Any, ...]) -> None:
        async with self._lock:
            if self._snapshot is not None and self._snapshot.fingerprint == fingerprint:
                return
            scripts, articles = await self._load()
            snapshot = await asyncio.to_thread(self._fit, fingerprint, scripts, articles)
            self._snapshot = snapshot  # swapped in one assignment: readers see the old or the new build

    async def _load(self) -> tuple[list[ScriptEntry], list[ArticleDoc]]:
        async with self.db.reads() as session:
            rows = await session.execute(
                select(Script, ScriptVersion)
                .join(
                    ScriptVersion,
                    (ScriptVersion.script_id == Script.id) & (ScriptVersion.version == Script.current_version),
                )
                .where(Script.active.is_(True))
                .order_by(Script.id)
            )
            scripts = [
                ScriptEntry(s.id, s.key, s.name, v.version, ScriptDefinition.model_validate(v.definition))
                for s, v in rows.all()
            ]
            articles = [
                ArticleDoc(a.id, a.title, a.answer, tuple(a.tags or ()), a.language)
                for a in (await session.execute(select(Article).where(Article.active.is_(True)))).scalars()
            ]
        return scripts, articles

    def _fit(self, fingerprint: tuple[Any, ...], scripts: list[ScriptEntry], articles: list[ArticleDoc]) -> Snapshot:
        snapshot = Snapshot(fingerprint=fingerprint, scripts={s.key: s for s in scripts})
        snapshot.retriever = Retriever(articles)
        examples = [(text, s.key) for s in scripts for text in [s.name, *s.definition.examples]]
        if not scripts:
            return snapshot
        try:
            matcher = self.matcher_factory()
            matcher.fit(examples)
            snapshot.matcher = matcher
        except Exception as exc:  # the bot still answers from knowledge and escalates without a matcher
            log.exception("script matcher could not be trained")
            snapshot.error = f"{type(exc).__name__}: {exc}"
        return snapshot


def _stamp(value: datetime | None) -> str | None:
    return value.isoformat() if value else None

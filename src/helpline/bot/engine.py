"""The fitted models the bot serves from: script matcher and article index, rebuilt when scripts or articles
change (in any process: the fingerprint is read from the database per message), and used from the next message on."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select

from helpline.bot.knowledge import ArticleDoc, Retriever, TextEncoder
from helpline.bot.models import Article, Script, ScriptVersion
from helpline.bot.schemas import ScriptDefinition
from helpline.platform.db import Database

log = logging.getLogger(__name__)
DRAFT_BUILDS_KEPT = 4
# A message that arrives while a changed script is being trained waits this long for the new build (training a
# new or edited script takes well under 2 s, bench/RESULTS.md); past that it is answered by the previous build.
RETRAIN_WAIT_SECONDS = 5.0


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


def default_knowledge_encoder() -> TextEncoder | None:
    """The sentence encoder knowledge answers are scored with (None: TF-IDF), imported late like the matcher."""
    try:
        module: Any = importlib.import_module("helpline.bot.matching")
        encoder: TextEncoder | None = module.knowledge_encoder()
    except Exception:  # the bot still answers from TF-IDF retrieval without the model
        log.exception("knowledge encoder could not be loaded")
        return None
    return encoder


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
    by_language: dict[str, Matcher] = field(default_factory=dict)
    retriever: Retriever = field(default_factory=lambda: Retriever([]))
    error: str | None = None

    @property
    def method(self) -> str | None:
        return self.matcher.method if self.matcher else None

    def matcher_for(self, language: str | None) -> Matcher | None:
        """The matcher over the scripts offered in `language`, else over all scripts."""
        return self.by_language.get(language or "", self.matcher)


def fit_matchers(factory: MatcherFactory, scripts: Sequence[ScriptEntry]) -> tuple[Matcher, dict[str, Matcher]]:
    """One matcher over every script (name and examples), and one per language that only some scripts offer.

    A company that writes the same script once per language ("Insurance claim", "Abertura de sinistro") would
    otherwise see a multilingual model split its confidence between the two, and neither would start.
    """

    def fitted(subset: Sequence[ScriptEntry]) -> Matcher:
        matcher = factory()
        matcher.fit([(text, s.key) for s in subset for text in [s.name, *s.definition.examples]])
        return matcher

    everything = fitted(scripts)
    by_language: dict[str, Matcher] = {}
    for language in sorted({lang for s in scripts for lang in s.definition.languages}):
        subset = [s for s in scripts if language in s.definition.languages]
        if len(subset) < len(scripts):
            by_language[language] = fitted(subset)
    return everything, by_language


class Engine:
    def __init__(
        self,
        db: Database,
        matcher_factory: MatcherFactory | None = None,
        knowledge_encoder: Callable[[], TextEncoder | None] = default_knowledge_encoder,
    ) -> None:
        self.db = db
        self.matcher_factory = matcher_factory or default_matcher_factory
        self.knowledge_encoder = knowledge_encoder
        self._snapshot: Snapshot | None = None
        self._building: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        # Builds with an unsaved draft script (the try-it console), newest last; small, since each holds models.
        self._drafts: dict[tuple[Any, ...], Snapshot] = {}

    async def _fingerprint(self) -> tuple[Any, ...]:
        # One cheap query per message, in whichever process edited the script: a new version raises the sum of
        # current versions (never lowered, whatever the clocks say), any other change moves a count or a stamp.
        async with self.db.reads() as session:
            scripts = (
                await session.execute(
                    select(
                        func.count(), func.max(Script.updated_at), func.coalesce(func.sum(Script.current_version), 0)
                    )
                )
            ).one()
            articles = (await session.execute(select(func.count(), func.max(Article.updated_at)))).one()
        return (scripts[0], _stamp(scripts[1]), int(scripts[2]), articles[0], _stamp(articles[1]))

    async def current(self) -> Snapshot:
        """The build for this message: after a change to scripts or articles, the message waits for the retrain
        (up to RETRAIN_WAIT_SECONDS, then the previous build answers while training goes on)."""
        fingerprint = await self._fingerprint()
        if self._snapshot is None:
            await self.rebuild(fingerprint)
        deadline = asyncio.get_running_loop().time() + RETRAIN_WAIT_SECONDS
        # Twice at most: a build already running may have started before the latest change.
        for _ in range(2):
            assert self._snapshot is not None
            if fingerprint == self._snapshot.fingerprint:
                break
            if self._building is None or self._building.done():
                self._building = asyncio.create_task(self.rebuild(fingerprint), name="bot-retrain")
            # shield: a message that stops waiting must not cancel the build the next messages need.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.shield(self._building), max(0.0, deadline - asyncio.get_running_loop().time())
                )
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
        snapshot.retriever = Retriever(articles, self.knowledge_encoder() if articles else None)
        if not scripts:
            return snapshot
        try:
            snapshot.matcher, snapshot.by_language = fit_matchers(self.matcher_factory, scripts)
        except Exception as exc:  # the bot still answers from knowledge and escalates without a matcher
            log.exception("script matcher could not be trained")
            snapshot.error = f"{type(exc).__name__}: {exc}"
        return snapshot


def _stamp(value: datetime | None) -> str | None:
    return value.isoformat() if value else None

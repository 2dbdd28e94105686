"""Sample scripts and articles for the demo (English and Portuguese), loaded by the demo seed."""

from __future__ import annotations

from importlib import resources

from sqlalchemy.ext.asyncio import AsyncSession

from helpline.bot.articles import import_articles, parse_articles
from helpline.bot.scripts import import_scripts, parse_definitions
from helpline.platform.crypto import SecretBox


def seed_documents() -> list[str]:
    """The bundled YAML files (one per language), read from the installed package."""
    folder = resources.files(__package__)
    return [
        item.read_text(encoding="utf-8")
        for item in sorted(folder.iterdir(), key=lambda i: i.name)
        if item.name.endswith(".yaml")
    ]


async def load_seeds(session: AsyncSession, *, box: SecretBox) -> tuple[int, int]:
    """Import the sample scripts and articles; idempotent (unchanged items are left alone)."""
    scripts = articles = 0
    for document in seed_documents():
        report = await import_scripts(session, parse_definitions(document), box=box, actor_id=None, allow_private=True)
        scripts += len(report.created) + len(report.updated)
        created, updated = await import_articles(session, parse_articles(document), actor_id=None)
        articles += created + updated
    return scripts, articles

"""Writes for knowledge articles: create, update, delete and import (the retriever picks changes up itself)."""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.audit.actions import record
from helpline.bot.models import Article
from helpline.bot.schemas import ArticleCreate, ArticleUpdate
from helpline.bot.scripts import parse_document
from helpline.platform.errors import Invalid, NotFound


def _tags(tags: list[str]) -> list[str]:
    return sorted({t.strip().lower()[:50] for t in tags if t.strip()})


async def create_article(session: AsyncSession, data: ArticleCreate, *, actor_id: int | None) -> Article:
    article = Article(
        title=data.title.strip(),
        answer=data.answer.strip(),
        tags=_tags(data.tags),
        language=data.language,
        active=data.active,
    )
    session.add(article)
    await session.flush()
    record(session, operator_id=actor_id, action="article.created", target_type="article", target_id=article.id)
    return article


async def get_article(session: AsyncSession, article_id: int) -> Article:
    article = await session.get(Article, article_id)
    if article is None:
        raise NotFound("no such article")
    return article


async def update_article(
    session: AsyncSession, article_id: int, data: ArticleUpdate, *, actor_id: int | None
) -> Article:
    article = await get_article(session, article_id)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if "tags" in changes:
        changes["tags"] = _tags(changes["tags"])
    for key, value in changes.items():
        setattr(article, key, value.strip() if isinstance(value, str) and key in ("title", "answer") else value)
    record(
        session,
        operator_id=actor_id,
        action="article.updated",
        target_type="article",
        target_id=article.id,
        details={"fields": sorted(changes)},
    )
    return article


async def delete_article(session: AsyncSession, article_id: int, *, actor_id: int | None) -> None:
    article = await get_article(session, article_id)
    record(session, operator_id=actor_id, action="article.deleted", target_type="article", target_id=article.id)
    await session.delete(article)


def parse_articles(text: str) -> list[ArticleCreate]:
    items = []
    for index, item in enumerate(parse_document(text, "articles")):
        try:
            items.append(ArticleCreate.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            raise Invalid(f"article #{index + 1}: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
    return items


async def import_articles(
    session: AsyncSession, items: list[ArticleCreate], *, actor_id: int | None
) -> tuple[int, int]:
    """Upsert by (title, language): returns (created, updated)."""
    created = updated = 0
    for item in items:
        existing = (
            await session.execute(
                select(Article).where(Article.title == item.title.strip(), Article.language == item.language)
            )
        ).scalar_one_or_none()
        if existing is None:
            await create_article(session, item, actor_id=actor_id)
            created += 1
        elif (existing.answer, existing.tags, existing.active) != (item.answer.strip(), _tags(item.tags), item.active):
            existing.answer, existing.tags, existing.active = item.answer.strip(), _tags(item.tags), item.active
            updated += 1
    return created, updated

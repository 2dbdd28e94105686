"""Routes: scripts and articles (admins write, supervisors read) and the bot on one conversation (operators)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.auth.dependencies import AdminPrincipal, CurrentPrincipal, RuntimeDep, SupervisorPrincipal
from helpline.auth.permissions import Principal
from helpline.bot import articles, console, operator, scripts
from helpline.bot.models import Article
from helpline.bot.pipeline import front_line_for
from helpline.bot.schemas import (
    ArticleCreate,
    ArticlePublic,
    ArticleUpdate,
    BotStatePublic,
    ChooseScript,
    InteractionPublic,
    ScriptDefinition,
    ScriptPublic,
    ScriptVersionPublic,
    Suggestion,
    TryRequest,
    TryResult,
)
from helpline.conversations import queries
from helpline.conversations.models import Conversation
from helpline.platform.errors import Invalid, NotFound

router = APIRouter(tags=["bot"])

MAX_IMPORT_BYTES = 5 * 1024 * 1024


async def _body_text(request: Request) -> str:
    raw = await request.body()
    if len(raw) > MAX_IMPORT_BYTES:
        raise Invalid("import file too large")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("import file must be UTF-8") from None


# ---------------------------------------------------------------- scripts


@router.get("/scripts", response_model=list[ScriptPublic])
async def list_scripts(principal: SupervisorPrincipal, runtime: RuntimeDep) -> list[ScriptPublic]:
    async with runtime.db.reads() as session:
        return await scripts.list_scripts(session)


@router.post("/scripts", response_model=ScriptPublic, status_code=201)
async def create_script(body: ScriptDefinition, principal: AdminPrincipal, runtime: RuntimeDep) -> ScriptPublic:
    async with runtime.db.transaction() as session:
        script, secret = await scripts.create_script(
            session,
            body,
            box=runtime.box,
            actor_id=principal.operator_id,
            allow_private=runtime.settings.allow_private_targets,
        )
        return scripts.present(script, await scripts.current_version(session, script), secret)


@router.get("/scripts/export")
async def export_scripts(
    principal: SupervisorPrincipal, runtime: RuntimeDep, format: Annotated[str, Query(pattern="^(yaml|json)$")] = "yaml"
) -> Response:
    async with runtime.db.reads() as session:
        items = await scripts.export_definitions(session)
    media = "application/json" if format == "json" else "application/yaml"
    return Response(scripts.dump_document(items, "scripts", format), media_type=media)


@router.post("/scripts/import")
async def import_scripts(request: Request, principal: AdminPrincipal, runtime: RuntimeDep) -> dict[str, Any]:
    """Body: a YAML or JSON document (a list of scripts, or {"scripts": [...]})."""
    definitions = scripts.parse_definitions(await _body_text(request))
    async with runtime.db.transaction() as session:
        report = await scripts.import_scripts(
            session,
            definitions,
            box=runtime.box,
            actor_id=principal.operator_id,
            allow_private=runtime.settings.allow_private_targets,
        )
    return report.__dict__


@router.get("/scripts/{script_id}", response_model=ScriptPublic)
async def get_script(script_id: int, principal: SupervisorPrincipal, runtime: RuntimeDep) -> ScriptPublic:
    async with runtime.db.reads() as session:
        return await scripts.get_script(session, script_id)


@router.put("/scripts/{script_id}", response_model=ScriptPublic)
async def update_script(
    script_id: int, body: ScriptDefinition, principal: AdminPrincipal, runtime: RuntimeDep
) -> ScriptPublic:
    async with runtime.db.transaction() as session:
        script, secret = await scripts.update_script(
            session,
            script_id,
            body,
            box=runtime.box,
            actor_id=principal.operator_id,
            allow_private=runtime.settings.allow_private_targets,
        )
        return scripts.present(script, await scripts.current_version(session, script), secret)


@router.delete("/scripts/{script_id}", status_code=204)
async def delete_script(script_id: int, principal: AdminPrincipal, runtime: RuntimeDep) -> Response:
    async with runtime.db.transaction() as session:
        await scripts.delete_script(session, script_id, actor_id=principal.operator_id)
    return Response(status_code=204)


@router.get("/scripts/{script_id}/versions", response_model=list[ScriptVersionPublic])
async def list_versions(
    script_id: int, principal: SupervisorPrincipal, runtime: RuntimeDep
) -> list[ScriptVersionPublic]:
    async with runtime.db.reads() as session:
        return await scripts.list_versions(session, script_id)


# ---------------------------------------------------------------- the try-it console


@router.post("/bot/try", response_model=TryResult)
async def try_bot(body: TryRequest, principal: SupervisorPrincipal, runtime: RuntimeDep) -> TryResult:
    """What the bot would do with one customer message — match, confidence, alternatives, article, reply —
    decided by the bot's own code on the saved scripts and articles; nothing is stored or sent (supervisors).

    `script` (the `POST /scripts` shape) evaluates an unsaved draft: it replaces the saved script of the same
    key, or joins the saved ones (`script_only`: it alone). Send back the returned `state` with the next
    message to step through a script (a state inside a draft needs that draft again). `language` fixes the
    customer's language instead of detecting it; `channel_kind` checks the replies against that channel's
    limits, as sending would (a refused reply hands over). With an LLM configured it is called as the bot
    would call it.
    """
    front_line = front_line_for(runtime)
    async with runtime.db.reads() as session:
        return await console.try_message(session, front_line, body, settings=runtime.settings)


# ---------------------------------------------------------------- articles


@router.get("/articles", response_model=list[ArticlePublic])
async def list_articles(principal: CurrentPrincipal, runtime: RuntimeDep) -> list[ArticlePublic]:
    async with runtime.db.reads() as session:
        rows = await session.execute(select(Article).order_by(Article.id))
        return [ArticlePublic.model_validate(a) for a in rows.scalars()]


@router.post("/articles", response_model=ArticlePublic, status_code=201)
async def create_article(body: ArticleCreate, principal: AdminPrincipal, runtime: RuntimeDep) -> ArticlePublic:
    async with runtime.db.transaction() as session:
        return ArticlePublic.model_validate(
            await articles.create_article(session, body, actor_id=principal.operator_id)
        )


@router.post("/articles/import")
async def import_articles(request: Request, principal: AdminPrincipal, runtime: RuntimeDep) -> dict[str, int]:
    items = articles.parse_articles(await _body_text(request))
    async with runtime.db.transaction() as session:
        created, updated = await articles.import_articles(session, items, actor_id=principal.operator_id)
    return {"created": created, "updated": updated}


@router.get("/articles/{article_id}", response_model=ArticlePublic)
async def get_article(article_id: int, principal: CurrentPrincipal, runtime: RuntimeDep) -> ArticlePublic:
    async with runtime.db.reads() as session:
        return ArticlePublic.model_validate(await articles.get_article(session, article_id))


@router.patch("/articles/{article_id}", response_model=ArticlePublic)
async def update_article(
    article_id: int, body: ArticleUpdate, principal: AdminPrincipal, runtime: RuntimeDep
) -> ArticlePublic:
    async with runtime.db.transaction() as session:
        article = await articles.update_article(session, article_id, body, actor_id=principal.operator_id)
        await session.flush()
        return ArticlePublic.model_validate(article)


@router.delete("/articles/{article_id}", status_code=204)
async def delete_article(article_id: int, principal: AdminPrincipal, runtime: RuntimeDep) -> Response:
    async with runtime.db.transaction() as session:
        await articles.delete_article(session, article_id, actor_id=principal.operator_id)
    return Response(status_code=204)


# ---------------------------------------------------------------- the bot on a conversation


async def _conversation(session: AsyncSession, principal: Principal, conversation_id: int) -> Conversation:
    await queries.get_visible_conversation(session, principal, conversation_id)
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound("no such conversation")
    return conversation


@router.get("/conversations/{conversation_id}/bot", response_model=BotStatePublic)
async def get_bot(conversation_id: int, principal: CurrentPrincipal, runtime: RuntimeDep) -> BotStatePublic:
    """The case summary: script, progress, answers collected, top-3 script suggestions, escalation."""
    snapshot = await front_line_for(runtime).engine.current()
    async with runtime.db.reads() as session:
        conversation = await _conversation(session, principal, conversation_id)
        return await operator.bot_state(session, conversation, snapshot)


@router.get("/conversations/{conversation_id}/bot/interactions", response_model=list[InteractionPublic])
async def get_interactions(
    conversation_id: int, principal: CurrentPrincipal, runtime: RuntimeDep
) -> list[InteractionPublic]:
    async with runtime.db.reads() as session:
        await _conversation(session, principal, conversation_id)
        return await operator.interactions(session, conversation_id)


@router.post("/conversations/{conversation_id}/bot/script", response_model=BotStatePublic)
async def choose_script(
    conversation_id: int, body: ChooseScript, principal: CurrentPrincipal, runtime: RuntimeDep
) -> BotStatePublic:
    """Choose, switch or restart a script: the bot takes the conversation and asks the first question."""
    async with runtime.db.reads() as session:
        await _conversation(session, principal, conversation_id)
    async with runtime.db.transaction() as session:
        await operator.choose_script(
            session, conversation_id, body.script_id, operator_id=principal.operator_id, blobs=runtime.blobs
        )
    return await get_bot(conversation_id, principal, runtime)


@router.delete("/conversations/{conversation_id}/bot/script", response_model=BotStatePublic)
async def stop_script(conversation_id: int, principal: CurrentPrincipal, runtime: RuntimeDep) -> BotStatePublic:
    async with runtime.db.reads() as session:
        await _conversation(session, principal, conversation_id)
    async with runtime.db.transaction() as session:
        await operator.stop_script(session, conversation_id, operator_id=principal.operator_id)
    return await get_bot(conversation_id, principal, runtime)


@router.get("/conversations/{conversation_id}/suggestions", response_model=list[Suggestion])
async def get_suggestions(conversation_id: int, principal: CurrentPrincipal, runtime: RuntimeDep) -> list[Suggestion]:
    front_line = front_line_for(runtime)
    snapshot = await front_line.engine.current()
    async with runtime.db.reads() as session:
        await _conversation(session, principal, conversation_id)
        return await operator.suggestions(session, conversation_id, front_line, snapshot)

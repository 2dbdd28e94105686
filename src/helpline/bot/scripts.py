"""Writes and reads for service scripts: versioned create/update, delete, import and export (YAML or JSON)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.audit.actions import record
from helpline.bot.models import Script, ScriptVersion
from helpline.bot.promises import broken_promise, stop_promise
from helpline.bot.schemas import ScriptDefinition, ScriptPublic, ScriptVersionPublic
from helpline.platform.crypto import SecretBox, new_secret
from helpline.platform.errors import Conflict, Invalid, NotFound
from helpline.platform.netguard import check_target


def parse_document(text: str, section: str) -> list[dict[str, Any]]:
    """Items of a YAML or JSON document: a list, one mapping, or a mapping with a `section` list."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise Invalid(f"not valid YAML or JSON: {exc}") from None
    if isinstance(data, dict) and section in data:
        data = data[section] or []
    elif isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise Invalid(f"expected a list of {section} (or a mapping with a `{section}` list)")
    return data


def parse_definitions(text: str) -> list[ScriptDefinition]:
    definitions = []
    for index, item in enumerate(parse_document(text, "scripts")):
        try:
            definitions.append(ScriptDefinition.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise Invalid(f"script #{index + 1} ({item.get('key', '?')}): {where}: {first['msg']}") from None
    return definitions


async def _check_end_action(definition: ScriptDefinition, allow_private: bool) -> None:
    promise = broken_promise(definition)
    if promise is not None:
        raise Invalid(
            f"the closing message promises a follow-up (“{promise}”) but the script ends with `close`, which does "
            "nothing after it: use end: case (a person takes over with the answers) or end: webhook (your "
            "system is called), or reword the closing message",
            code="closing_promise",
        )
    stop = stop_promise(definition)
    if stop is not None:
        raise Invalid(
            f"step {stop[0]!r}: the stop_if_no message promises a follow-up (“{stop[1]}”), but after a no the "
            "script stops and nothing is done: reword it",
            code="closing_promise",
        )
    if definition.end_action is not None:
        await check_target(definition.end_action.url, allow_private=allow_private)


async def _get(session: AsyncSession, script_id: int) -> Script:
    script = await session.get(Script, script_id)
    if script is None:
        raise NotFound("no such script")
    return script


async def create_script(
    session: AsyncSession, definition: ScriptDefinition, *, box: SecretBox, actor_id: int | None, allow_private: bool
) -> tuple[Script, str | None]:
    """A new script at version 1; returns the end-action signing secret once when there is an end action."""
    await _check_end_action(definition, allow_private)
    if (await session.execute(select(Script.id).where(Script.key == definition.key))).scalar_one_or_none():
        raise Conflict(f"a script with key {definition.key!r} exists", code="duplicate_key")
    secret = new_secret() if definition.end_action else None
    script = Script(
        key=definition.key,
        name=definition.name,
        active=definition.active,
        current_version=1,
        end_action_secret=box.seal({"secret": secret}) if secret else None,
    )
    session.add(script)
    await session.flush()
    session.add(
        ScriptVersion(
            script_id=script.id, version=1, definition=definition.model_dump(mode="json"), created_by=actor_id
        )
    )
    record(session, operator_id=actor_id, action="script.created", target_type="script", target_id=script.id)
    await session.flush()
    return script, secret


async def update_script(
    session: AsyncSession,
    script_id: int,
    definition: ScriptDefinition,
    *,
    box: SecretBox,
    actor_id: int | None,
    allow_private: bool,
) -> tuple[Script, str | None]:
    """A new version; conversations already running keep theirs. Unchanged content makes no version."""
    script = await _get(session, script_id)
    if definition.key != script.key:
        raise Invalid("a script's key cannot change; create a new script instead", code="key_changed")
    await _check_end_action(definition, allow_private)
    current = await current_version(session, script)
    data = definition.model_dump(mode="json")
    if current.definition == data:
        return script, None
    secret = None
    if definition.end_action and not script.end_action_secret:
        secret = new_secret()
        script.end_action_secret = box.seal({"secret": secret})
    script.current_version += 1
    script.name = definition.name
    script.active = definition.active
    session.add(
        ScriptVersion(script_id=script.id, version=script.current_version, definition=data, created_by=actor_id)
    )
    record(
        session,
        operator_id=actor_id,
        action="script.updated",
        target_type="script",
        target_id=script.id,
        details={"version": script.current_version},
    )
    await session.flush()
    return script, secret


async def delete_script(session: AsyncSession, script_id: int, *, actor_id: int | None) -> None:
    script = await _get(session, script_id)
    record(
        session,
        operator_id=actor_id,
        action="script.deleted",
        target_type="script",
        target_id=script.id,
        details={"key": script.key},
    )
    await session.delete(script)


async def current_version(session: AsyncSession, script: Script) -> ScriptVersion:
    version = (
        await session.execute(
            select(ScriptVersion).where(
                ScriptVersion.script_id == script.id, ScriptVersion.version == script.current_version
            )
        )
    ).scalar_one()
    return version


@dataclass
class ImportReport:
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    secrets: dict[str, str]


async def import_scripts(
    session: AsyncSession,
    definitions: list[ScriptDefinition],
    *,
    box: SecretBox,
    actor_id: int | None,
    allow_private: bool,
) -> ImportReport:
    """Upsert by key: new keys are created, changed ones get a new version, the rest are left alone."""
    report = ImportReport([], [], [], {})
    for definition in definitions:
        existing = (await session.execute(select(Script).where(Script.key == definition.key))).scalar_one_or_none()
        if existing is None:
            _, secret = await create_script(
                session, definition, box=box, actor_id=actor_id, allow_private=allow_private
            )
            report.created.append(definition.key)
        else:
            before = existing.current_version
            _, secret = await update_script(
                session, existing.id, definition, box=box, actor_id=actor_id, allow_private=allow_private
            )
            (report.updated if existing.current_version != before else report.unchanged).append(definition.key)
        if secret:
            report.secrets[definition.key] = secret
    return report


async def export_definitions(session: AsyncSession) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(ScriptVersion.definition)
        .join(Script, (Script.id == ScriptVersion.script_id) & (Script.current_version == ScriptVersion.version))
        .order_by(Script.key)
    )
    return [dict(d) for d in rows.scalars()]


def dump_document(items: list[dict[str, Any]], section: str, fmt: str) -> str:
    import json

    if fmt == "json":
        return json.dumps({section: items}, indent=2, ensure_ascii=False) + "\n"
    text: str = yaml.safe_dump({section: items}, allow_unicode=True, sort_keys=False, width=100)
    return text


def present(script: Script, version: ScriptVersion, secret: str | None = None) -> ScriptPublic:
    return ScriptPublic(
        id=script.id,
        key=script.key,
        name=script.name,
        active=script.active,
        current_version=script.current_version,
        definition=ScriptDefinition.model_validate(version.definition),
        updated_at=script.updated_at,
        end_action_secret=secret,
    )


def present_version(version: ScriptVersion) -> ScriptVersionPublic:
    return ScriptVersionPublic(
        script_id=version.script_id,
        version=version.version,
        definition=ScriptDefinition.model_validate(version.definition),
        created_by=version.created_by,
        created_at=version.created_at,
    )


async def list_scripts(session: AsyncSession) -> list[ScriptPublic]:
    rows = await session.execute(
        select(Script, ScriptVersion)
        .join(ScriptVersion, (ScriptVersion.script_id == Script.id) & (ScriptVersion.version == Script.current_version))
        .order_by(Script.key)
    )
    return [present(s, v) for s, v in rows.all()]


async def get_script(session: AsyncSession, script_id: int) -> ScriptPublic:
    script = await _get(session, script_id)
    return present(script, await current_version(session, script))


async def list_versions(session: AsyncSession, script_id: int) -> list[ScriptVersionPublic]:
    await _get(session, script_id)
    rows = await session.execute(
        select(ScriptVersion).where(ScriptVersion.script_id == script_id).order_by(ScriptVersion.version.desc())
    )
    return [present_version(v) for v in rows.scalars()]

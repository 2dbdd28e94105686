"""`helpline privacy …`: export or erase a contact, and run retention, from the command line (audited)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import click

from helpline.audit.actions import record

T = TypeVar("T")


@click.group("privacy")
def privacy() -> None:
    """Data-subject requests (export, erase) and retention."""


@privacy.command("export")
@click.argument("contact_id", type=int)
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="ZIP to write.")
def export_command(contact_id: int, out: Path) -> None:
    """Write everything held about CONTACT_ID (export.json + files/) to a ZIP (GDPR Art. 15/20)."""
    from helpline.cli import _settings
    from helpline.privacy.export import build_archive, export_document
    from helpline.runtime import Runtime

    async def run() -> tuple[bytes, int]:
        runtime = Runtime.create(_settings())
        try:
            async with runtime.db.transaction() as session:
                document, attachments = await export_document(session, contact_id)
                record(
                    session,
                    operator_id=None,
                    action="privacy.exported",
                    target_type="contact",
                    target_id=contact_id,
                    details={"via": "cli", "conversations": len(document["conversations"])},
                )
            return build_archive(document, attachments, runtime.blobs), len(document["conversations"])
        finally:
            await runtime.close()

    archive, conversations = _run(run())
    out.write_bytes(archive)
    click.echo(f"wrote {out} ({conversations} conversations)")


@privacy.command("erase")
@click.argument("contact_id", type=int)
@click.option("--yes", is_flag=True, help="Do it (without it, nothing is erased).")
def erase_command(contact_id: int, yes: bool) -> None:
    """Erase CONTACT_ID and every copy of its data (GDPR Art. 17); refused under a legal hold."""
    from helpline.cli import _settings
    from helpline.privacy.actions import remove_blobs
    from helpline.privacy.erase import erase_contact
    from helpline.runtime import Runtime

    if not yes:
        raise click.UsageError("erasure cannot be undone: add --yes")

    async def run() -> dict[str, int]:
        runtime = Runtime.create(_settings())
        try:
            async with runtime.db.transaction() as session:
                purged = await erase_contact(session, contact_id, actor_id=None, secret_key=runtime.settings.secret_key)
            remove_blobs(runtime.blobs, purged.orphaned_blobs)
            return purged.counts()
        finally:
            await runtime.close()

    click.echo(json.dumps(_run(run())))


@privacy.command("retention")
@click.option("--apply", is_flag=True, help="Purge (without it: a dry run that lists what would go).")
def retention_command(apply: bool) -> None:
    """Apply the retention periods now (the workers also do, every HELPLINE_RETENTION_INTERVAL_SECONDS)."""
    from helpline.cli import _settings
    from helpline.platform.clock import utcnow
    from helpline.privacy.actions import remove_blobs
    from helpline.privacy.retention import run_retention
    from helpline.runtime import Runtime

    async def run() -> dict[str, object]:
        runtime = Runtime.create(_settings())
        try:
            async with runtime.db.transaction() as session:
                report = await run_retention(session, utcnow(), dry_run=not apply, via="cli")
            remove_blobs(runtime.blobs, report.purged.orphaned_blobs)
            return {"dry_run": not apply, "conversation_ids": report.conversation_ids, **report.purged.counts()}
        finally:
            await runtime.close()

    click.echo(json.dumps(_run(run())))


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run one command's coroutine; a domain error becomes a clean CLI error (exit code 1)."""
    from helpline.platform.errors import HelplineError

    try:
        return asyncio.run(coro)
    except HelplineError as exc:
        raise click.ClickException(exc.message) from None

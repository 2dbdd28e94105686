"""The `helpline` command: serve, worker, db, operator and channel management."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import signal
import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy import func, select

from helpline.settings import Settings, SettingsError, load_settings

log = logging.getLogger("helpline")


def _settings(**overrides: Any) -> Settings:
    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def _logging(level: str) -> None:
    from helpline.platform import redaction

    redaction.install()
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@click.group()
def main() -> None:
    """Helpline — self-hosted omnichannel customer care."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations to HELPLINE_DATABASE_URL."""
    from helpline.platform.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    click.echo("database is up to date")


async def _ensure_first_admin(settings: Settings) -> tuple[str, str] | None:
    """Create an admin when there is no operator at all; returns (email, password) when it did."""
    from helpline.auth.actions import create_operator
    from helpline.auth.models import Operator, Role
    from helpline.auth.schemas import OperatorCreate
    from helpline.platform.db import Database
    from helpline.platform.errors import Conflict

    database = Database(settings.database_url)
    try:
        async with database.transaction() as session:
            if (await session.execute(select(func.count()).select_from(Operator))).scalar_one():
                return None
            email, password = "admin@helpline.local", secrets.token_urlsafe(12)
            await create_operator(
                session,
                OperatorCreate(email=email, name="Administrator", password=password, role=Role.admin),
                actor_id=None,
            )
    except Conflict:
        # Another process starting at the same moment created it first.
        return None
    finally:
        await database.dispose()
    path = settings.data_dir / "initial-admin.txt"
    path.touch(mode=0o600)
    path.write_text(f"email: {email}\npassword: {password}\n")
    return email, password


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--demo/--no-demo", default=None, help="Seed demo data and run simulated customers.")
@click.option("--workers/--no-workers", "run_workers", default=None, help="Run outbox workers in this process.")
@click.option(
    "--worker-processes",
    type=click.IntRange(0, 64),
    default=None,
    help="Run the workers as this many supervised `helpline worker` child processes (needs Redis) instead of "
    "in a thread of this process [HELPLINE_WORKER_PROCESSES, default 0].",
)
def serve(host: str, port: int, demo: bool | None, run_workers: bool | None, worker_processes: int | None) -> None:
    """Run the API server and web app (and, by default, the workers) after applying migrations.

    The port is bound first: when it is taken, nothing is migrated or seeded and the command exits with 1,
    naming a free port to use instead.
    """
    import uvicorn

    from helpline.app import create_app
    from helpline.platform.listener import PortInUse, browser_host, listen
    from helpline.platform.migrate import upgrade

    try:
        # First of all, so that a busy port leaves nothing behind (no data folder, key, database or admin).
        sock = listen(host, port)
    except PortInUse as exc:
        other = exc.suggestion or port + 1
        raise click.ClickException(
            f"port {port} is in use (another Helpline, or another program, listens on {host}:{port}) — "
            f"try `make run PORT={other}` (or `helpline serve --port {other}`)"
        ) from None
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    overrides: dict[str, Any] = {"demo": demo, "run_workers": run_workers, "worker_processes": worker_processes}
    if demo:
        # The demo's simulated systems live on this machine.
        overrides["allow_private_targets"] = True
    settings = _settings(**overrides)
    web_url = f"http://{browser_host(host)}:{port}"
    if settings.base_url == Settings.model_fields["base_url"].default and port != 8000:
        settings.base_url = web_url
    _logging(settings.log_level)
    upgrade(settings.database_url)
    created = asyncio.run(_ensure_first_admin(settings))
    for line in banner(settings, web_url + "/", created):
        click.echo(line)
    children = None
    if settings.run_workers and settings.worker_processes:
        from helpline.worker_processes import WorkerProcesses

        # The children run the workers; this process only serves (and wakes them: platform/wakeups.py).
        children = WorkerProcesses(settings.worker_processes)
        settings = settings.model_copy(update={"run_workers": False})
    config = uvicorn.Config(
        create_app(settings, migrate=False),
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        # The app resolves X-Forwarded-For itself, from HELPLINE_TRUSTED_PROXIES only (platform/proxies.py);
        # uvicorn's own handling would trust any loopback peer.
        proxy_headers=False,
    )
    if children is not None:
        children.start()
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        if children is not None:
            children.stop()


def banner(settings: Settings, web_url: str, created: tuple[str, str] | None) -> list[str]:
    """The start-up message: where to open the web app and how to log in (from the first start's file)."""
    saved = settings.data_dir / "initial-admin.txt"
    lines = ["", f"  Helpline is running — open {web_url} in your browser", ""]
    credentials = {"email": created[0], "password": created[1]} if created else {}
    if not credentials and saved.exists():
        pairs = (line.split(": ", 1) for line in saved.read_text().splitlines() if ": " in line)
        credentials = {key: value for key, value in pairs if key in ("email", "password")}
    if credentials:
        state = "created now" if created else "created on the first start; change the password once logged in"
        lines += [
            f"    e-mail:    {credentials.get('email', '?')}",
            f"    password:  {credentials.get('password', '?')}",
            f"    (the first admin, {state}; saved in {saved})",
        ]
    else:
        lines.append("    log in with your operator account (new ones: helpline operator create …)")
    lines += ["", f"  API documentation: {web_url}docs   database: {settings.database_url.split('@')[-1]}"]
    if settings.demo:
        lines.append("  demo: simulated customers start writing in a few seconds")
        lines.append(f"  demo website with the chat widget: {web_url}sandbox/widget-site")
        if settings.demo_mail:
            lines.append("  demo mailbox: a customer e-mails atendimento@segurozinho.example (local SMTP + IMAP)")
    return [*lines, ""]


@main.command()
def worker() -> None:
    """Run outbox workers only (scaled-out mode; start as many as you like). SIGTERM: finish the batch, exit."""
    from helpline.jobs import run_workers_until
    from helpline.realtime.brokers import RedisBroker
    from helpline.runtime import Runtime

    settings = _settings()
    _logging(settings.log_level)
    if not settings.redis_url:
        log.warning("HELPLINE_REDIS_URL is not set: realtime frames from this worker reach no API process")

    async def run() -> None:
        runtime = Runtime.create(settings)
        if isinstance(runtime.broker, RedisBroker):
            # Publish only: a worker has no sockets, so receiving every frame back would be wasted work.
            await runtime.broker.start_publishing(runtime.hub.on_frame)
        else:
            await runtime.start_realtime()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            # Finish the batch in progress, then exit; rows not settled are taken again after their lease.
            loop.add_signal_handler(signum, stop.set)
        await run_workers_until(runtime, stop)

    asyncio.run(run())


@main.group()
def operator() -> None:
    """Operators."""


@operator.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--role", type=click.Choice(["agent", "supervisor", "admin"]), default="agent", show_default=True)
@click.option("--name", default=None)
def operator_create(email: str, password: str, role: str, name: str | None) -> None:
    """Create an operator."""
    from pydantic import ValidationError

    from helpline.auth.actions import create_operator
    from helpline.auth.models import Role
    from helpline.auth.schemas import OperatorCreate
    from helpline.platform.db import Database
    from helpline.platform.errors import HelplineError
    from helpline.platform.migrate import upgrade

    settings = _settings()
    try:
        data = OperatorCreate(email=email, password=password, role=Role(role), name=name or email.split("@")[0])
    except ValidationError as exc:
        raise click.ClickException("; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())) from None
    upgrade(settings.database_url)

    async def run() -> int:
        database = Database(settings.database_url)
        try:
            async with database.transaction() as session:
                return (await create_operator(session, data, actor_id=None)).id
        finally:
            await database.dispose()

    try:
        operator_id = asyncio.run(run())
    except HelplineError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"operator {operator_id} created: {data.email} ({role})")


@main.group()
def channels() -> None:
    """Channels."""


def _pairs(values: tuple[str, ...]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE")
        try:
            result[key] = json.loads(value)
        except ValueError:
            result[key] = value
    return result


@channels.command("add")
@click.argument("kind")
@click.option("--name", required=True)
@click.option("--profile-id", type=int, default=None)
@click.option("--setting", "settings_", multiple=True, help="KEY=VALUE (repeatable)")
@click.option("--credential", "credentials", multiple=True, help="KEY=VALUE (repeatable; stored encrypted)")
def channels_add(
    kind: str, name: str, profile_id: int | None, settings_: tuple[str, ...], credentials: tuple[str, ...]
) -> None:
    """Add a channel of KIND (e.g. api)."""
    from helpline.channels.actions import create_channel
    from helpline.channels.schemas import ChannelCreate
    from helpline.platform.crypto import SecretBox
    from helpline.platform.db import Database
    from helpline.platform.errors import HelplineError
    from helpline.platform.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    data = ChannelCreate(
        kind=kind,
        name=name,
        profile_id=profile_id,
        settings=_pairs(settings_),
        credentials=_pairs(credentials),
    )

    async def run() -> tuple[int, dict[str, Any]]:
        database = Database(settings.database_url)
        try:
            async with database.transaction() as session:
                channel, reveal = await create_channel(
                    session,
                    data,
                    box=SecretBox(settings.secret_key),
                    actor_id=None,
                    allow_private=settings.allow_private_targets,
                )
                return channel.id, reveal
        finally:
            await database.dispose()

    try:
        channel_id, reveal = asyncio.run(run())
    except HelplineError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"channel {channel_id} created ({kind})")
    for key, value in reveal.items():
        click.echo(f"  {key}: {value}   (shown once; store it now)")


@main.group()
def meta() -> None:
    """Meta (WhatsApp, Messenger, Instagram) set-up and App Review."""


@meta.command("doctor")
@click.option("--channel", "channel_id", type=int, default=None, help="Check only this channel.")
def meta_doctor(channel_id: int | None) -> None:
    """Check tokens, permissions, webhook subscriptions and the public URLs App Review needs."""
    import httpx

    from helpline.compliance.doctor import load_targets, render, run_doctor
    from helpline.platform.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url)

    async def run() -> str:
        targets = await load_targets(settings, channel_id)
        if channel_id is not None and not targets:
            raise click.ClickException(f"no channel {channel_id}")
        async with httpx.AsyncClient(timeout=15) as client:
            checks = await run_doctor(settings, targets, graph=client, app=client)
        if any(check.status == "fail" for check in checks):
            click.echo(render(checks))
            raise SystemExit(1)
        return render(checks)

    click.echo(asyncio.run(run()))


@main.group()
def sandbox() -> None:
    """Local fakes of the providers (never used by production paths)."""


@sandbox.command("meta")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int)
@click.option(
    "--callback-url", default=None, help="Where to send webhooks [default: <HELPLINE_BASE_URL>/webhooks/meta]"
)
@click.option("--app-secret", default=None, help="Signs the webhooks [default: HELPLINE_META_APP_SECRET]")
def sandbox_meta(host: str, port: int, callback_url: str | None, app_secret: str | None) -> None:
    """Run the fake Meta Graph API; point HELPLINE_META_GRAPH_URL at it."""
    import uvicorn

    from helpline.sandbox.meta.standalone import build

    settings = _settings()
    _logging(settings.log_level)
    app, lines = build(settings, host=host, port=port, callback_url=callback_url, app_secret=app_secret)
    for line in lines:
        click.echo(line)
    uvicorn.run(app, host=host, port=port, log_level=settings.log_level.lower())


@main.group()
def bot() -> None:
    """The AI front line."""


@bot.command("eval")
@click.option("--train", "train_csv", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--test", "test_csv", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--shots", type=click.IntRange(min=1), default=None, help="Keep K random examples per category.")
@click.option("--seeds", type=click.IntRange(min=1), default=1, show_default=True, help="Average over N draws.")
@click.option("--method", default=None, help="Matching method (default: the best available).")
@click.option(
    "--holdout-categories",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Drop M random categories from training: their test rows become out of scope.",
)
@click.option("--test-limit", type=click.IntRange(min=1), default=None, help="Use N random test rows.")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True, help="CPU threads for models.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the figures as the last line.")
def bot_eval(
    train_csv: Path,
    test_csv: Path,
    shots: int | None,
    seeds: int,
    method: str | None,
    holdout_categories: int,
    test_limit: int | None,
    threads: int,
    as_json: bool,
) -> None:
    """Measure script matching on a text,category CSV, trained exactly as the product trains."""
    from helpline.bot.matching.evaluate import run_cli

    run_cli(
        train=train_csv,
        test=test_csv,
        shots=shots,
        seeds=seeds,
        method=method,
        holdout=holdout_categories,
        test_limit=test_limit,
        threads=threads,
        as_json=as_json,
    )


@main.group()
def templates() -> None:
    """Provider message templates (WhatsApp)."""


@templates.command("sync")
@click.option("--channel", "channel_id", type=int, default=None, help="Only this channel (default: all WhatsApp).")
def templates_sync(channel_id: int | None) -> None:
    """Fetch approved templates from the provider and store them."""
    from helpline.engagement.templates import sync_all_templates
    from helpline.platform.errors import HelplineError
    from helpline.platform.migrate import upgrade
    from helpline.runtime import Runtime

    settings = _settings()
    upgrade(settings.database_url)

    async def run() -> dict[int, int | str]:
        runtime = Runtime.create(settings)
        try:
            return await sync_all_templates(runtime, channel_id)
        finally:
            await runtime.close()

    try:
        results = asyncio.run(run())
    except HelplineError as exc:
        raise click.ClickException(exc.message) from None
    for cid, outcome in results.items():
        click.echo(f"channel {cid}: " + (f"{outcome} templates" if isinstance(outcome, int) else f"failed: {outcome}"))
    if any(isinstance(outcome, str) for outcome in results.values()):
        sys.exit(1)


@main.group()
def scripts() -> None:
    """Bot service scripts and knowledge articles (YAML or JSON files)."""


def _run_bot_import(path: str, kind: str) -> str:
    from helpline.bot.articles import import_articles, parse_articles
    from helpline.bot.scripts import import_scripts, parse_definitions
    from helpline.platform.crypto import SecretBox
    from helpline.platform.db import Database
    from helpline.platform.errors import HelplineError
    from helpline.platform.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    with open(path, encoding="utf-8") as handle:
        text = handle.read()

    async def run() -> str:
        database = Database(settings.database_url)
        try:
            async with database.transaction() as session:
                if kind == "articles":
                    created, updated = await import_articles(session, parse_articles(text), actor_id=None)
                    return f"articles: {created} created, {updated} updated"
                report = await import_scripts(
                    session,
                    parse_definitions(text),
                    box=SecretBox(settings.secret_key),
                    actor_id=None,
                    allow_private=settings.allow_private_targets,
                )
                lines = [f"scripts: created {report.created}, updated {report.updated}, unchanged {report.unchanged}"]
                lines += [f"  end-action secret of {k}: {v}   (shown once)" for k, v in report.secrets.items()]
                return "\n".join(lines)
        finally:
            await database.dispose()

    try:
        return asyncio.run(run())
    except HelplineError as exc:
        raise click.ClickException(exc.message) from None


@scripts.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--articles", "articles_", is_flag=True, help="The file holds articles, not scripts.")
def scripts_import(path: str, articles_: bool) -> None:
    """Create or update scripts (new versions) from a YAML/JSON file; same keys are updated."""
    click.echo(_run_bot_import(path, "articles" if articles_ else "scripts"))


@scripts.command("export")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True)
def scripts_export(fmt: str) -> None:
    """Print every script's current version as YAML or JSON (import it elsewhere as is)."""
    from helpline.bot.scripts import dump_document, export_definitions
    from helpline.platform.db import Database

    settings = _settings()

    async def run() -> list[dict[str, Any]]:
        database = Database(settings.database_url)
        try:
            async with database.sessions() as session:
                return await export_definitions(session)
        finally:
            await database.dispose()

    click.echo(dump_document(asyncio.run(run()), "scripts", fmt), nl=False)


if __name__ == "__main__":
    sys.exit(main())


def _register_privacy() -> None:
    from helpline.privacy.cli import privacy

    main.add_command(privacy)


_register_privacy()

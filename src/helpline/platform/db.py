"""Database engine, declarative base and column types shared by every domain (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy import BigInteger, DateTime, Integer, MetaData, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, object_mapper
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import JSON, TypeDecorator

from helpline.platform.clock import utcnow
from helpline.platform.sanitize import clean_value

# Named constraints so Alembic migrations are reproducible on both databases.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

READONLY_OPTION = "helpline_readonly"
# Connections of the driver-level pool (`Database.driver_pool`): one statement of ~0.2 ms each, so a few
# serve a whole process's webhooks; they come on top of `pool_size`.
DRIVER_POOL_MAX = 8

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit key.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[str]: JSON()}


class IdMixin:
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


@event.listens_for(Session, "before_flush")
def _fit_strings(session: Session, _context: Any, _instances: Any) -> None:
    """Strings longer than their column (a provider's 400-character display name in a VARCHAR(300)) are cut
    to fit: PostgreSQL refuses them with an error, SQLite stores them whole, and neither may cost a message."""
    for instance in (*session.new, *session.dirty):
        mapper = object_mapper(instance)
        for prop in mapper.column_attrs:
            length = getattr(prop.columns[0].type, "length", None)
            value = instance.__dict__.get(prop.key)
            if length and isinstance(value, str) and len(value) > length:
                setattr(instance, prop.key, value[:length])


def _sqlite_on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # WAL lets readers run beside the writer; foreign keys are off by default in SQLite.
    # Autocommit mode at the driver so that our "begin" hook controls transactions.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def json_text(value: Any) -> str:
    """JSON text of a value as the JSON columns store it (also for statements sent through the driver)."""
    # The last line of defence for JSON columns: a lone surrogate or NUL would be escaped to `\\ud83d` /
    # `\\u0000`, which PostgreSQL refuses; inputs are cleaned at the edge already (platform/sanitize.py).
    return json.dumps(clean_value(value))


def _clean_parameters(
    _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _executemany: bool
) -> tuple[str, Any]:
    """Every string bound to a statement, cleaned of what neither database stores (lone surrogates, NUL).

    A value that slipped past the edge (a header, a name built from several inputs) then loses one character
    instead of failing the whole transaction with a 500."""
    return statement, clean_value(parameters)


def create_engine(url: str, *, echo: bool = False, pool_size: int = 30, max_overflow: int = 30) -> AsyncEngine:
    """Create the async engine with the per-database settings that make both first-class."""
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url, echo=echo, pool_size=8, max_overflow=8, pool_timeout=60, json_serializer=json_text
        )
        event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
        event.listen(engine.sync_engine, "before_cursor_execute", _clean_parameters, retval=True)

        @event.listens_for(engine.sync_engine, "begin")
        def _begin_immediate(conn: Any) -> None:
            # A deferred SQLite transaction that reads then writes fails with SQLITE_BUSY when another
            # writer committed in between; taking the write lock up front makes writers queue instead.
            # Read-only sessions (Database.reads) need no lock: WAL gives them a snapshot beside the writer.
            readonly = conn.get_execution_options().get(READONLY_OPTION)
            conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

        return engine
    # No pre-ping: it cost three round trips per checkout (~9 % of server time under load, bench/RESULTS.md);
    # connections are recycled instead, and one that died with the server fails one request and is replaced.
    engine = create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_recycle=1800,
        json_serializer=json_text,
    )
    event.listen(engine.sync_engine, "before_cursor_execute", _clean_parameters, retval=True)
    return engine


async def _keep_session(_connection: Any) -> None:
    """No reset when a driver-pool connection is released: the statements sent through it are single
    self-committing ones that change no session state, and asyncpg's default reset costs a round trip
    (`RESET ALL; UNLISTEN *; …`) per statement — 13 % of the accept path's CPU (bench/RESULTS.md)."""


# SQLSTATE classes meaning "not now" rather than "not this statement" (PostgreSQL manual, Appendix A):
# 08 connection exception, 53 insufficient resources (e.g. 53300 too many connections), 57 operator
# intervention (shutdown, "cannot connect now" while starting).
_UNAVAILABLE_SQLSTATE_CLASSES = ("08", "53", "57")


def database_down(exc: BaseException) -> bool:
    """Whether a DBAPI error means the database cannot be reached or is unavailable right now (so the
    request may be retried: 503), rather than a bad statement or bad data."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    original = getattr(exc, "orig", None)
    # SQLAlchemy's asyncpg adapter wraps most server errors in a generic `Error`; its SQLSTATE still tells.
    sqlstate = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if isinstance(sqlstate, str) and sqlstate[:2] in _UNAVAILABLE_SQLSTATE_CLASSES:
        return True
    return isinstance(original, (OSError, ConnectionError)) or "connection" in type(original).__name__.lower()


class Database:
    """The engine plus a session factory; one per process."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 30, max_overflow: int = 30) -> None:
        """`pool_size` / `max_overflow`: PostgreSQL connections kept / opened for peaks (SQLite: fixed)."""
        self.url = url
        self.engine = create_engine(url, echo=echo, pool_size=pool_size, max_overflow=max_overflow)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        # For code that only reads: on SQLite it does not take the write lock.
        self.reads = async_sessionmaker(
            self.engine.execution_options(**{READONLY_OPTION: True}), expire_on_commit=False, autoflush=False
        )
        # PostgreSQL only: every statement commits on its own, no BEGIN/COMMIT round trips (`statements`).
        self._autocommit = async_sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False, autoflush=False
        )
        self._driver_size = max(1, min(pool_size, DRIVER_POOL_MAX))
        self._driver_pool: asyncpg.Pool | None = None
        self._driver_lock = asyncio.Lock()
        # Statements sent through `driver_pool` (SQLAlchemy's events do not see them), for the cost counts.
        self.driver_statements = 0

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits on success, rolls back on any error."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def statements(self, *, readonly: bool = False) -> AsyncIterator[AsyncSession]:
        """For a hot path that sends one self-contained statement at a time (a lookup by key, one INSERT):
        on PostgreSQL each statement commits by itself (AUTOCOMMIT: one round trip instead of three); on
        SQLite a read session (`readonly`) or one write transaction. Never for several writes that must
        commit together."""
        if self.is_postgres:
            async with self._autocommit() as session:
                yield session
        elif readonly:
            async with self.reads() as session:
                yield session
        else:
            async with self.transaction() as session:
                yield session

    async def driver_pool(self) -> asyncpg.Pool:
        """PostgreSQL only: asyncpg's own pool (each connection prepares a statement once and keeps it), for
        a hot path of one self-contained statement (the inbound accept): SQLAlchemy's per-statement work
        was larger than the statement's. Opened on first use, at most `DRIVER_POOL_MAX` connections."""
        if self._driver_pool is None:
            async with self._driver_lock:
                if self._driver_pool is None:
                    dsn = make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)
                    self._driver_pool = await asyncpg.create_pool(
                        dsn, min_size=1, max_size=self._driver_size, reset=_keep_session
                    )
        return self._driver_pool

    async def dispose(self) -> None:
        if self._driver_pool is not None:
            pool, self._driver_pool = self._driver_pool, None
            await pool.close()
        await self.engine.dispose()

"""Engine, constraint naming convention and the unit of work (one transaction, rolled back unless committed)."""

from datetime import UTC, datetime
from enum import StrEnum
from types import TracebackType
from typing import Any, ClassVar, Self

from sqlalchemy import Enum as SAEnum
from sqlalchemy import MetaData, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlmodel import SQLModel

# Alembic autogenerate and hand-written migrations agree on constraint names only with a convention.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


def utc_now() -> datetime:
    return datetime.now(UTC)


def stored_instant(value: str) -> datetime:
    """An ISO 8601 timestamp as the services store them (timestamptz, UTC): ValueError for a naive one, which
    they never write, or one whose UTC instant is outside the years 1 to 9999 (0001-01-01T00:00+14:00, say),
    which no query could bind. For positions read back from clients, such as cursors."""
    instant = datetime.fromisoformat(value)
    if instant.tzinfo is None:
        raise ValueError("a timestamp without a time zone")
    try:
        return instant.astimezone(UTC)
    except OverflowError:
        raise ValueError("a timestamp out of range") from None


def empty_list() -> list[Any]:
    """``default_factory`` for list fields of table models, instead of ``list``. On every instantiation
    SQLModel has pydantic check whether the factory takes the validated data, by ``inspect.signature``: ~5 µs
    for a Python function, ~100 µs for a builtin such as ``list`` (whose signature is parsed from text)."""
    return []


def empty_dict() -> dict[str, Any]:
    """``default_factory`` for dict fields of table models, instead of ``dict`` (see :func:`empty_list`)."""
    return {}


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    # JIT compilation pays off for long analytical queries only; on a request path it added ~2 s to a case
    # list the planner overestimated at 100k+ cases (bench/case_service.py), so it is off for every service.
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"server_settings": {"jit": "off"}},
    )
    event.listen(engine.sync_engine, "checkout", _refuse_closed)
    return engine


def _refuse_closed(dbapi_connection: Any, _record: object, _proxy: object) -> None:
    """Instead of ``pool_pre_ping``, which costs three round trips per checkout with asyncpg (BEGIN, a ping,
    ROLLBACK): a connection the server closed (a restart, an idle timeout) is already marked closed by asyncpg,
    which saw the socket end, and is replaced here (the pool makes a second attempt). A connection that died
    silently fails its first statement instead: that request fails, and SQLAlchemy invalidates the connection
    and the pool's older ones (or, for statements sent to asyncpg directly, asyncpg marks it closed for this
    check)."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this connection")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


class UnitOfWork:
    """One database transaction. Leaving the block without :meth:`commit` rolls everything back.

    Subclasses set ``source`` (the CloudEvents source of what they emit) and attach repositories in ``bind``.
    """

    source: ClassVar[str]

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def __aenter__(self) -> Self:
        from casebridge_common.audit import AuditLog
        from casebridge_common.http import IdempotencyKeys
        from casebridge_common.inbox import Inbox
        from casebridge_common.outbox import Outbox

        self.session = self._sessions()
        self.outbox = Outbox(self.session, source=self.source)
        self.inbox = Inbox(self.session)
        self.idempotency = IdempotencyKeys(self.session)
        self.audit = AuditLog(self.session)
        self.bind(self.session)
        return self

    def bind(self, session: AsyncSession) -> None:
        """Attach this service's repositories to the session."""

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            # Detach first: a rollback expires every loaded object, and readers use what they loaded after
            # the block. Nothing uncommitted can leak: the transaction is still undone.
            self.session.expunge_all()
            await self.session.rollback()  # a no-op after commit(): undo is the default
        finally:
            await self.session.close()
        await self._save_denials()

    async def _save_denials(self) -> None:
        """Denied accesses are audited although the request that was denied rolls back (data-protection.md §7:
        they reveal probing), so they get a short transaction of their own."""
        from casebridge_common.audit import AuditLog

        denials = self.audit.take_unsaved_denials()
        if not denials:
            return
        async with self._sessions() as session:
            log = AuditLog(session)
            log.extend(denials)
            await log.write()
            await session.commit()

    async def commit(self) -> None:
        # The buffered events and audit entries go in now, one multi-row INSERT each, in this transaction.
        await self.outbox.write()
        await self.audit.write()
        await self.session.commit()
        self.audit.committed()


def enum_type(enum: type[StrEnum]) -> SAEnum:
    """Enums are stored as their lower-snake values in VARCHAR, so adding a member needs no ALTER TYPE."""
    return SAEnum(enum, native_enum=False, length=64, values_callable=lambda members: [m.value for m in members])

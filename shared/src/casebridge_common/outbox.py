"""Transactional outbox: events are rows written in the caller's transaction; a relay publishes them.

Request code never talks to Kafka. The relay publishes at-least-once in ``seq`` order per batch with an
idempotent producer, so a key's events leave in the order their transactions committed (writers of one
aggregate serialise on its row lock); consumers de-duplicate on the event id.
"""

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from aiokafka import AIOKafkaProducer
from opentelemetry import propagate, trace
from sqlalchemy import BigInteger, Column, DateTime, Identity, Index, Table, delete, event, func, insert, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, SessionTransaction
from sqlmodel import Field, SQLModel, col

from casebridge_common.db import utc_now
from casebridge_common.events.envelope import CloudEvent, Event, json_bytes
from casebridge_common.kafka import Topics, kafka_headers
from casebridge_common.telemetry import current_traceparent

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_pending", "seq", postgresql_where=text("published_at IS NULL")),)

    seq: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(always=True), primary_key=True))
    event_id: UUID = Field(unique=True)
    topic: str
    key: str
    event: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    created_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )
    published_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


OUTBOX_TABLE: Table = OutboxMessage.__table__  # type: ignore[attr-defined]
_SESSION_KEY = "casebridge.outbox"


class EventBuffer:
    """Events emitted in a unit of work, kept as outbox rows until its commit writes them."""

    def __init__(self, *, source: str) -> None:
        self._source = source
        self._pending: list[dict[str, object]] = []

    def emit(self, event: Event) -> str:
        """Add the event to the current transaction; it is published only if the transaction commits. Returns
        the event's id."""
        envelope = CloudEvent.document(event, source=self._source, traceparent=current_traceparent())
        self._pending.append(
            {"event_id": UUID(envelope["id"]), "topic": event.topic, "key": envelope["subject"], "event": envelope}
        )
        return str(envelope["id"])

    @property
    def pending(self) -> list[dict[str, object]]:
        """The rows of the events emitted so far (columns of ``outbox_messages``), in emit order."""
        return self._pending


class Outbox(EventBuffer):
    """The events of one unit of work, buffered and inserted with one multi-row INSERT at commit (:meth:`write`).

    Building an ORM object per event cost more than the insert itself. A savepoint rolled back takes the events
    emitted inside it with it, as it would take the rows (see the session listeners below).
    """

    def __init__(self, session: AsyncSession, *, source: str) -> None:
        super().__init__(source=source)
        self._session = session
        self._savepoints: dict[SessionTransaction, int] = {}
        session.sync_session.info[_SESSION_KEY] = self

    async def write(self) -> None:
        """Insert the emitted events into the session's transaction, in emit order. Call right before commit."""
        if self._pending:
            await self._session.execute(insert(OUTBOX_TABLE), self._pending)
            self._pending, self._savepoints = [], {}

    def _savepoint_began(self, savepoint: SessionTransaction) -> None:
        self._savepoints[savepoint] = len(self._pending)

    def _savepoint_rolled_back(self, savepoint: SessionTransaction) -> None:
        if (mark := self._savepoints.pop(savepoint, None)) is not None:
            del self._pending[mark:]


@event.listens_for(Session, "after_transaction_create")
def _outbox_savepoint_began(session: Session, transaction: SessionTransaction) -> None:
    outbox = session.info.get(_SESSION_KEY)
    if transaction.nested and isinstance(outbox, Outbox):
        outbox._savepoint_began(transaction)


@event.listens_for(Session, "after_soft_rollback")
def _outbox_savepoint_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    outbox = session.info.get(_SESSION_KEY)
    if previous_transaction.nested and isinstance(outbox, Outbox):
        outbox._savepoint_rolled_back(previous_transaction)


class PublishTimeout(Exception):
    """The broker did not acknowledge a batch in time; the batch is rolled back and retried."""


async def relay_batch(
    sessions: async_sessionmaker[AsyncSession],
    producer: AIOKafkaProducer,
    topics: Topics,
    *,
    limit: int = 200,
    publish_timeout_s: float = 10.0,
) -> int:
    """Publish the oldest pending rows. Any send failure rolls the batch back, so it is retried whole.

    aiokafka's idempotent producer retries forever while the broker is away and never fails a send, so the
    wait is bounded here: otherwise one outage would hold this transaction, and its row locks, indefinitely.
    Records of a timed-out batch may still reach Kafka later; consumers de-duplicate on the event id.
    """
    async with sessions() as session, session.begin():
        rows = (
            await session.scalars(
                select(OutboxMessage)
                .where(col(OutboxMessage.published_at).is_(None))
                .order_by(col(OutboxMessage.seq))
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        if not rows:
            return 0
        try:
            async with asyncio.timeout(publish_timeout_s):
                acks = []
                for row in rows:
                    parent = propagate.extract({"traceparent": row.event.get("traceparent", "")})
                    with tracer.start_as_current_span(
                        f"publish {row.topic}", context=parent, kind=trace.SpanKind.PRODUCER
                    ):
                        acks.append(
                            await producer.send(
                                topics.name(row.topic),
                                key=row.key.encode(),
                                value=json_bytes(row.event),
                                headers=kafka_headers(row.event),
                            )
                        )
                await asyncio.gather(*acks)
        except TimeoutError as exc:
            raise PublishTimeout(f"{len(rows)} records not acknowledged within {publish_timeout_s} s") from exc
        now = utc_now()
        for row in rows:
            row.published_at = now
    return len(rows)


async def pending_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(col(OutboxMessage.published_at).is_(None))
        )
    return int(count or 0)


async def purge_published(sessions: async_sessionmaker[AsyncSession], *, older_than: timedelta) -> int:
    async with sessions() as session, session.begin():
        result = await session.execute(
            delete(OutboxMessage).where(col(OutboxMessage.published_at) < utc_now() - older_than)
        )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def run_relay(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    producer: AIOKafkaProducer,
    topics: Topics,
    *,
    lock_id: int,
    idle_s: float = 0.2,
    max_backoff_s: float = 30.0,
) -> None:
    """Relay forever. One active relay per service: it holds an advisory lock; a second one waits as standby.

    Two relays publishing at once could interleave one key's events, hence the lock.
    """
    async with engine.connect() as lock_conn:
        while not (await lock_conn.scalar(text("SELECT pg_try_advisory_lock(:id)"), {"id": lock_id})):
            await lock_conn.rollback()
            await asyncio.sleep(5)
        await lock_conn.commit()
        log.info("outbox relay active", extra={"lock_id": lock_id})
        backoff = 0.5
        while True:
            try:
                sent = await relay_batch(sessions, producer, topics)
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Broker or database outage: rows stay pending in PostgreSQL and are retried.
                log.warning("outbox relay batch failed; retrying in %.1fs: %r", backoff, exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, max_backoff_s)
                continue
            if sent == 0:
                await asyncio.sleep(idle_s)

"""The relay against the real broker: an outage loses nothing, and a key's events arrive in commit order."""

import asyncio
import json
import uuid
from uuid import UUID

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from mechanism_probes import SomethingHappened, TestUnitOfWork
from opentelemetry import trace
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casebridge_common.kafka import Topics, make_producer
from casebridge_common.outbox import OutboxMessage, relay_batch
from casebridge_common.settings import ServiceSettings
from casebridge_common.telemetry import configure_tracing

TOPIC = "casebridge.case.events.v1"


async def _emit(sessions: async_sessionmaker[AsyncSession], events: list[SomethingHappened]) -> None:
    async with TestUnitOfWork(sessions) as uow:
        for event in events:
            uow.outbox.emit(event)
        await uow.commit()


async def _pending(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.published_at.is_(None))  # type: ignore[union-attr]
            )
            or 0
        )


async def _read_all(bootstrap: str, topic: str, expected: int) -> list[dict[str, object]]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=f"g-{uuid.uuid4().hex[:8]}"
    )
    await consumer.start()
    values: list[dict[str, object]] = []
    try:
        async with asyncio.timeout(30):
            while len(values) < expected:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    values += [json.loads(r.value) for r in records]
    finally:
        await consumer.stop()
    return values


async def test_a_failed_batch_rolls_back_and_is_published_on_retry(
    committed_sessions: async_sessionmaker[AsyncSession], kafka_topics: Topics, kafka_bootstrap: str
) -> None:
    await _emit(committed_sessions, [SomethingHappened(thing_id=uuid.uuid4(), n=i) for i in range(3)])
    producer = make_producer(kafka_bootstrap, client_id="rollback-test", request_timeout_ms=2000)
    await producer.start()
    try:
        missing = Topics(prefix=f"missing{uuid.uuid4().hex[:6]}.")  # the broker does not auto-create topics
        with pytest.raises(KafkaError):
            await relay_batch(committed_sessions, producer, missing)
        assert await _pending(committed_sessions) == 3
        assert await relay_batch(committed_sessions, producer, kafka_topics) == 3
    finally:
        await producer.stop()
    assert await _pending(committed_sessions) == 0


async def test_relay_publishes_pending_rows_as_cloudevents_in_order_per_key(
    committed_sessions: async_sessionmaker[AsyncSession], kafka_topics: Topics, kafka_bootstrap: str
) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    events = [SomethingHappened(thing_id=first if i % 2 else second, n=i) for i in range(20)]
    await _emit(committed_sessions, events)
    producer = make_producer(kafka_bootstrap, client_id="relay-test")
    await producer.start()
    try:
        assert await relay_batch(committed_sessions, producer, kafka_topics, limit=7) == 7
        while await relay_batch(committed_sessions, producer, kafka_topics):
            pass
    finally:
        await producer.stop()
    assert await _pending(committed_sessions) == 0

    published = await _read_all(kafka_bootstrap, kafka_topics.name(TOPIC), expected=20)
    assert len(published) == 20
    for key in (first, second):
        sequence = [e["data"]["n"] for e in published if e["subject"] == str(key)]  # type: ignore[index]
        assert sequence == [e.n for e in events if e.thing_id == key]
    envelope = published[0]
    assert envelope["specversion"] == "1.0"
    assert envelope["type"] == "casebridge.test.happened.v1"
    assert envelope["source"] == "/casebridge/test"
    assert UUID(str(envelope["id"]))
    assert {"time", "datacontenttype", "dataschema", "data"} <= envelope.keys()


async def test_the_kafka_record_continues_the_trace_of_the_request_that_emitted_the_event(
    committed_sessions: async_sessionmaker[AsyncSession], kafka_topics: Topics, kafka_bootstrap: str
) -> None:
    configure_tracing(
        ServiceSettings(
            service_name="trace-test",
            database_url="postgresql+asyncpg://x/y",  # type: ignore[arg-type]
            oidc_issuer="http://127.0.0.1:9400",
            oidc_audience="case-api",
        )
    )
    with trace.get_tracer("test").start_as_current_span("POST /v1/cases") as request_span:
        await _emit(committed_sessions, [SomethingHappened(thing_id=uuid.uuid4(), n=1)])
        trace_id = f"{request_span.get_span_context().trace_id:032x}"
    producer = make_producer(kafka_bootstrap, client_id="trace-test")
    await producer.start()
    try:
        assert await relay_batch(committed_sessions, producer, kafka_topics) == 1
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        kafka_topics.name(TOPIC),
        bootstrap_servers=kafka_bootstrap,
        auto_offset_reset="earliest",
        group_id=f"g-{uuid.uuid4().hex[:8]}",
    )
    await consumer.start()
    try:
        async with asyncio.timeout(30):
            records: list[object] = []
            while not records:
                records = [r for batch in (await consumer.getmany(timeout_ms=500)).values() for r in batch]
    finally:
        await consumer.stop()
    headers = dict(records[0].headers)  # type: ignore[attr-defined]
    stored = json.loads(records[0].value)["traceparent"]  # type: ignore[attr-defined]
    assert stored.split("-")[1] == trace_id  # the envelope keeps the request's context
    published = headers["traceparent"].decode().split("-")
    assert published[1] == trace_id  # same trace ...
    assert published[2] != stored.split("-")[2]  # ... but the relay's producer span, not the request span

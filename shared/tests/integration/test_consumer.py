"""The consume loop on the real broker: one effect per event id, poison messages parked with their reason."""

import asyncio
import contextlib
import uuid

from aiokafka import AIOKafkaConsumer
from mechanism_probes import Effect, SomethingHappened, TestUnitOfWork
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casebridge_common.events.envelope import CloudEvent, json_bytes
from casebridge_common.inbox import exactly_once
from casebridge_common.kafka import DeadLetters, Topics, consume, make_consumer, make_producer

TOPIC = "casebridge.case.events.v1"
DLQ = "casebridge.scoring-service.dlq"


async def _record(uow: TestUnitOfWork, payload: SomethingHappened) -> None:
    uow.session.add(Effect(subject=str(payload.aggregate_id()), n=payload.n))


# the services' handlers are built the same way (casebridge_common.inbox.exactly_once)
on_something = exactly_once("test.on_something", SomethingHappened, _record)


async def _effects(sessions: async_sessionmaker[AsyncSession]) -> list[Effect]:
    async with sessions() as session:
        return list((await session.scalars(select(Effect))).all())


async def test_same_event_delivered_twice_has_one_effect_and_poison_goes_to_the_dlq(
    committed_sessions: async_sessionmaker[AsyncSession], kafka_topics: Topics, kafka_bootstrap: str
) -> None:
    event = CloudEvent.wrap(SomethingHappened(thing_id=uuid.uuid4(), n=1), source="/casebridge/test")
    value = json_bytes(event.model_dump(mode="json"))
    producer = make_producer(kafka_bootstrap, client_id="consumer-test")
    await producer.start()
    consumer = make_consumer(kafka_bootstrap, [kafka_topics.name(TOPIC)], group_id=f"g-{uuid.uuid4().hex[:8]}")
    await consumer.start()
    loop = asyncio.create_task(
        consume(
            consumer,
            {SomethingHappened.type: on_something},
            lambda: TestUnitOfWork(committed_sessions),
            DeadLetters(producer, kafka_topics.name(DLQ)),
        )
    )
    dlq = AIOKafkaConsumer(
        kafka_topics.name(DLQ),
        bootstrap_servers=kafka_bootstrap,
        auto_offset_reset="earliest",
        group_id=f"d-{uuid.uuid4().hex[:8]}",
    )
    await dlq.start()
    try:
        for _ in range(2):  # Kafka redelivers: at-least-once
            await producer.send_and_wait(kafka_topics.name(TOPIC), key=event.subject.encode(), value=value)
        await producer.send_and_wait(kafka_topics.name(TOPIC), key=b"poison", value=b"{not json")
        bad_payload = CloudEvent(source="/x", type=SomethingHappened.type, subject="s", data={"n": "many"})
        await producer.send_and_wait(
            kafka_topics.name(TOPIC), key=b"bad", value=json_bytes(bad_payload.model_dump(mode="json"))
        )

        parked = []
        async with asyncio.timeout(30):
            while len(parked) < 2:
                for records in (await dlq.getmany(timeout_ms=500)).values():
                    parked += records
        async with asyncio.timeout(30):
            while not await _effects(committed_sessions):  # noqa: ASYNC110 - polling another process's commit
                await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # room for a wrongful second effect to appear
        effects = await _effects(committed_sessions)
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
        await dlq.stop()
        await consumer.stop()
        await producer.stop()

    assert [(e.subject, e.n) for e in effects] == [(event.subject, 1)]
    by_key = {r.key: r for r in parked}  # different keys: different partitions, no order between them
    assert set(by_key) == {b"poison", b"bad"}
    assert by_key[b"poison"].value == b"{not json"
    headers = dict(by_key[b"poison"].headers)
    assert headers["x-original-topic"] == kafka_topics.name(TOPIC).encode()
    assert headers["x-error-type"] == b"ValidationError"
    assert {"x-original-partition", "x-original-offset", "x-error-message", "x-attempts"} <= headers.keys()
    assert dict(by_key[b"bad"].headers)["x-error-type"] == b"ValidationError"

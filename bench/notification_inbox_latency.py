"""Event-to-inbox latency p99 against the running stack (target: under 250 ms).

Publishes `casebridge.case.opened.v1` CloudEvents, one at a time, to the stack's Kafka (the way the outbox relay
does) and polls notification-service's database until the inbox item of that event is there. Beside it, the
baseline measured in this run: a plain Kafka produce → consume round trip on a private topic (created, then
deleted). The events are for the office `bench-latency`, which no one reads; other consumers of the case topic
(scoring-service) also see them. Bounded: EVENTS events, each given up after TIMEOUT_S.
Env: BENCH_KAFKA_BOOTSTRAP (127.0.0.1:19092), BENCH_DATABASE_URL (postgresql://postgres@127.0.0.1:55432/notification_service).
"""

import asyncio
import logging
import os
import statistics
import time
import uuid
from datetime import UTC, datetime

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from casebridge_common.events.contracts.case import CaseOpened, Programme
from casebridge_common.events.envelope import CloudEvent, json_bytes
from casebridge_common.kafka import kafka_headers

BOOTSTRAP = os.environ.get("BENCH_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:55432/notification_service")
EVENTS = 200
TIMEOUT_S = 10.0
POLL_S = 0.001


def p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, round(q * (len(values) - 1)))] * 1000


def an_event() -> CloudEvent:
    return CloudEvent.wrap(
        CaseOpened(
            case_id=uuid.uuid4(),
            case_version=1,
            beneficiary_id=uuid.uuid4(),
            programme=Programme.RETURN_REINTEGRATION,
            owner_office_id="bench-latency",
            owner_organisation_id="bench",
            opened_at=datetime.now(UTC),
        ),
        source="/casebridge/case-service",
    )


async def baseline(producer: AIOKafkaProducer) -> list[float]:
    topic = f"bench.notification-latency.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=BOOTSTRAP, auto_offset_reset="earliest", fetch_max_wait_ms=5)
    await consumer.start()
    try:
        await consumer.getmany(timeout_ms=1000)  # joined and assigned before the clock starts
        samples = []
        for _ in range(EVENTS):
            document = an_event().model_dump(mode="json")
            start = time.perf_counter()
            await producer.send_and_wait(topic, value=json_bytes(document), headers=kafka_headers(document))
            async with asyncio.timeout(TIMEOUT_S):
                await consumer.getone()
            samples.append(time.perf_counter() - start)
        return samples
    finally:
        await consumer.stop()
        await admin.delete_topics([topic])
        await admin.close()


async def event_to_inbox(producer: AIOKafkaProducer, db: asyncpg.Connection) -> tuple[list[float], int]:
    samples, lost = [], 0
    for _ in range(EVENTS):
        event = an_event()
        document = event.model_dump(mode="json")
        start = time.perf_counter()
        await producer.send_and_wait(
            CaseOpened.topic, key=event.subject.encode(), value=json_bytes(document), headers=kafka_headers(document)
        )
        while await db.fetchval("SELECT 1 FROM inbox_items WHERE source_event_id = $1", event.id) is None:
            if time.perf_counter() - start > TIMEOUT_S:
                lost += 1
                break
            await asyncio.sleep(POLL_S)
        else:
            samples.append(time.perf_counter() - start)
    return samples, lost


def line(name: str, samples: list[float]) -> str:
    return (
        f"{name:<44} n={len(samples):>4}  p50 {p(samples, 0.5):7.1f} ms  p99 {p(samples, 0.99):7.1f} ms  "
        f"mean {statistics.fmean(samples) * 1000:7.1f} ms"
    )


async def main() -> None:
    logging.getLogger("aiokafka.cluster").setLevel(logging.CRITICAL)  # "topic not found" while the new topic spreads
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, enable_idempotence=True, acks="all", linger_ms=0)
    await producer.start()
    db = await asyncpg.connect(DATABASE_URL)
    try:
        base = await baseline(producer)
        measured, lost = await event_to_inbox(producer, db)
    finally:
        await db.close()
        await producer.stop()
    print(line("baseline: Kafka produce → consume", base))
    if measured:
        print(line("event → inbox item (notification-service)", measured))
    print(f"not in the inbox within {TIMEOUT_S:.0f} s: {lost} of {EVENTS}; target p99 < 250 ms")


if __name__ == "__main__":
    asyncio.run(main())

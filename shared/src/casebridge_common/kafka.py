"""Kafka plumbing: topic names and creation, producer settings, the consume loop with retries and dead letters."""

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from opentelemetry import propagate, trace
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from casebridge_common.events.envelope import CLOUDEVENTS_CONTENT_TYPE, CloudEvent

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)
U = TypeVar("U")
Handler = Callable[[CloudEvent, U], Awaitable[None]]


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    retention_ms: int | None = None
    producer: str | None = None  # None for dead-letter topics; "a, b, c" when several services publish
    consumers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Topics:
    """Logical topic names → broker names; the prefix isolates tests that share one broker."""

    prefix: str = ""

    def name(self, logical: str) -> str:
        return self.prefix + logical


def load_topic_specs(path: Path) -> list[TopicSpec]:
    """`deploy/kafka/topics.yaml`: the one list of topics for the local stack, compose and Kubernetes."""
    document = yaml.safe_load(path.read_text())
    return [
        TopicSpec(
            name=t["name"],
            partitions=int(t["partitions"]),
            retention_ms=t.get("retention_ms"),
            producer=", ".join(t["producer"]) if isinstance(t.get("producer"), list) else t.get("producer"),
            consumers=tuple(t.get("consumers") or ()),
        )
        for t in document["topics"]
    ]


async def ensure_topics(bootstrap: str, specs: list[TopicSpec], topics: Topics, *, replication: int = 1) -> None:
    """Create missing topics; existing ones are left as they are. Nothing relies on auto-creation."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(
                name=topics.name(s.name),
                num_partitions=s.partitions,
                replication_factor=replication,
                topic_configs={"retention.ms": str(s.retention_ms)} if s.retention_ms else {},
            )
            for s in specs
            if topics.name(s.name) not in existing
        ]
        if wanted:
            try:
                await admin.create_topics(wanted)
            except TopicAlreadyExistsError:
                log.info("topics created concurrently by another process")
    finally:
        await admin.close()


def make_producer(bootstrap: str, *, client_id: str, request_timeout_ms: int = 15000) -> AIOKafkaProducer:
    """Idempotent, acks=all: broker-side retries can neither duplicate nor reorder records in a partition."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        request_timeout_ms=request_timeout_ms,
    )


def kafka_headers(envelope: Mapping[str, Any]) -> list[tuple[str, bytes]]:
    """Headers of an outgoing record; the traceparent is the current (producer) span's, not the stored one."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    headers = [("content-type", CLOUDEVENTS_CONTENT_TYPE.encode()), ("ce_type", str(envelope["type"]).encode())]
    headers += [(k, v.encode()) for k, v in carrier.items()]
    return headers


def _header(record: ConsumerRecord[bytes, bytes], name: str) -> str | None:
    for key, value in record.headers or ():
        if key == name:
            return bytes(value).decode(errors="replace")
    return None


class DeadLetters:
    """One dead-letter topic per consuming service: `casebridge.<service>.dlq`, original key and value kept."""

    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self._producer, self.topic = producer, topic

    async def park(self, record: ConsumerRecord[bytes, bytes], error: BaseException, *, attempts: int) -> None:
        headers = [
            *(record.headers or ()),
            ("x-original-topic", record.topic.encode()),
            ("x-original-partition", str(record.partition).encode()),
            ("x-original-offset", str(record.offset).encode()),
            ("x-error-type", type(error).__name__.encode()),
            ("x-error-message", str(error)[:2000].encode()),
            ("x-attempts", str(attempts).encode()),
        ]
        await self._producer.send_and_wait(self.topic, key=record.key, value=record.value, headers=headers)


TRANSIENT: tuple[type[BaseException], ...] = (OperationalError, InterfaceError, TimeoutError, ConnectionError)


def _is_database_outage(exc: BaseException) -> bool:
    """A database that cannot be reached is an outage, not a poison message: wait for it, never park."""
    return (isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)) or isinstance(exc, ConnectionError)


class RetriesExhausted(Exception):
    """A transient failure outlasted the retry budget; the record is parked with the last error."""

    def __init__(self, attempts: int) -> None:
        super().__init__(f"gave up after {attempts} attempts")
        self.attempts = attempts


async def handle_with_retries(
    handler: Handler[U], event: CloudEvent, new_uow: Callable[[], U], *, attempts: int, base_delay_s: float = 0.2
) -> None:
    """Transient failures are retried with backoff and jitter; anything else propagates at once."""
    attempt = 0
    while True:
        attempt += 1
        try:
            await handler(event, new_uow())
            return
        except TRANSIENT as exc:
            if attempt >= attempts and not _is_database_outage(exc):
                raise RetriesExhausted(attempt) from exc
            delay = min(30.0, base_delay_s * 2 ** min(attempt, 8)) * random.uniform(0.5, 1.0)  # noqa: S311
            log.warning(
                "transient failure handling %s (attempt %d); retry in %.2fs: %r", event.type, attempt, delay, exc
            )
            await asyncio.sleep(delay)


async def consume(
    consumer: AIOKafkaConsumer,
    handlers: Mapping[str, Handler[U]],
    new_uow: Callable[[], U],
    dead_letters: DeadLetters,
    *,
    attempts: int = 5,
) -> None:
    """At-least-once: the offset moves only after the handler committed or the dead-letter topic has the record."""
    async for record in consumer:
        context = propagate.extract({"traceparent": _header(record, "traceparent") or ""})
        with tracer.start_as_current_span(f"consume {record.topic}", context=context, kind=trace.SpanKind.CONSUMER):
            try:
                event = CloudEvent.model_validate_json(record.value)
                handler = handlers.get(event.type)
                if handler is not None:  # other types on the topic are for other consumers, or newer producers
                    await handle_with_retries(handler, event, new_uow, attempts=attempts)
            except asyncio.CancelledError:
                raise
            except RetriesExhausted as exc:
                log.error("event at %s:%d@%d parked: %s", record.topic, record.partition, record.offset, exc)
                await dead_letters.park(record, exc.__cause__ or exc, attempts=exc.attempts)
            except (ValidationError, ValueError) as exc:
                log.error("malformed event at %s:%d@%d parked: %s", record.topic, record.partition, record.offset, exc)
                await dead_letters.park(record, exc, attempts=1)
            except Exception as exc:
                log.exception("event at %s:%d@%d parked", record.topic, record.partition, record.offset)
                await dead_letters.park(record, exc, attempts=1)
        await consumer.commit({TopicPartition(record.topic, record.partition): record.offset + 1})


def make_consumer(bootstrap: str, topics: list[str], *, group_id: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )

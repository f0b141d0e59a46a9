"""The worker process every service runs: outbox relay, audit sealer, event consumers and housekeeping (no API)."""

import asyncio
import contextlib
import logging
import signal
import zlib
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from casebridge_common.audit import seal_pending
from casebridge_common.db import create_engine, session_factory, utc_now
from casebridge_common.http import IDEMPOTENCY_TTL, IdempotencyRecord
from casebridge_common.kafka import DeadLetters, Handler, Topics, consume, make_consumer, make_producer
from casebridge_common.outbox import pending_count, purge_published, run_relay
from casebridge_common.settings import ServiceSettings
from casebridge_common.telemetry import configure_logging, configure_tracing

log = logging.getLogger(__name__)
U = TypeVar("U")
PUBLISHED_RETENTION = timedelta(days=7)


async def _start_with_retry(client: AIOKafkaProducer | AIOKafkaConsumer, what: str) -> None:
    """The broker may be down when the worker starts; wait for it rather than crash."""
    delay = 0.5
    while True:
        try:
            await client.start()
            return
        except Exception as exc:
            log.warning("%s could not reach Kafka; retrying in %.1fs: %r", what, delay, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 15.0)


async def _housekeeping(sessions: async_sessionmaker[AsyncSession], every_s: float = 3600) -> None:
    while True:
        purged = await purge_published(sessions, older_than=PUBLISHED_RETENTION)
        async with sessions() as session, session.begin():
            await session.execute(
                delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < utc_now() - IDEMPOTENCY_TTL)
            )
        log.info("housekeeping done", extra={"outbox_purged": purged, "outbox_pending": await pending_count(sessions)})
        await asyncio.sleep(every_s)


async def _seal_audit(sessions: async_sessionmaker[AsyncSession], every_s: float = 1.0) -> None:
    """Chain what requests committed unsealed; the log's tamper evidence covers an entry from its seal on."""
    while True:
        try:
            await seal_pending(sessions)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # A database outage: the entries wait unsealed, and the next round seals them.
            log.warning("audit sealing failed; retrying in %.1fs: %r", every_s, exc)
        await asyncio.sleep(every_s)


async def run_worker(
    settings: ServiceSettings,
    *,
    new_uow: Callable[[async_sessionmaker[AsyncSession]], U],
    handlers: Mapping[str, Handler[U]],
    consumed_topics: list[str],
) -> None:
    """Run until SIGTERM/SIGINT. The relay and the audit sealer always run; the consumer only when the service
    has handlers."""
    configure_logging(settings.service_name, settings.log_level)
    configure_tracing(settings)
    engine = create_engine(settings.database_url.get_secret_value(), pool_size=4)
    sessions = session_factory(engine)
    topics = Topics(settings.kafka_topic_prefix)
    producer = make_producer(settings.kafka_bootstrap_servers, client_id=f"{settings.service_name}-worker")
    await _start_with_retry(producer, "producer")
    tasks: list[asyncio.Task[object]] = [
        asyncio.create_task(
            run_relay(engine, sessions, producer, topics, lock_id=zlib.crc32(settings.service_name.encode())),
            name="relay",
        ),
        asyncio.create_task(_housekeeping(sessions), name="housekeeping"),
        asyncio.create_task(_seal_audit(sessions), name="audit-sealer"),
    ]
    consumer = None
    if handlers:
        consumer = make_consumer(
            settings.kafka_bootstrap_servers,
            [topics.name(t) for t in consumed_topics],
            group_id=settings.service_name,
        )
        await _start_with_retry(consumer, "consumer")
        dead_letters = DeadLetters(producer, topics.name(f"casebridge.{settings.service_name}.dlq"))
        tasks.append(
            asyncio.create_task(consume(consumer, handlers, lambda: new_uow(sessions), dead_letters), name="consumer")
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker running", extra={"consumed_topics": consumed_topics, "handlers": sorted(handlers)})
    stopper: asyncio.Task[object] = asyncio.create_task(stop.wait(), name="stop")
    done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    # Both stops wait for the broker; during an outage they would wait forever.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(10):
            if consumer is not None:
                await consumer.stop()
            await producer.stop()
    await engine.dispose()
    failures = [t.exception() for t in done if t is not stopper and not t.cancelled() and t.exception()]
    if failures:
        raise RuntimeError("a worker task failed") from failures[0]

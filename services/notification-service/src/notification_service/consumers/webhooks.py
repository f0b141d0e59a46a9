"""The webhook dispatcher job: never in the request path. One active dispatcher per service (advisory lock),
so a subscription's queue is worked by one task and its order holds."""

import asyncio
import logging
import random
import zlib
from collections.abc import Callable
from datetime import datetime

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from casebridge_common.db import utc_now
from notification_service.channels import webhook
from notification_service.domain.webhooks import RetryPolicy
from notification_service.service_layer import deliveries
from notification_service.service_layer.deliveries import Attempt, DueDelivery
from notification_service.unit_of_work import NotificationUnitOfWork

log = logging.getLogger(__name__)
LOCK_ID = zlib.crc32(b"notification-service.webhook-dispatcher")


async def _send_queue(client: httpx.AsyncClient, queue: list[DueDelivery]) -> list[Attempt]:
    """In order; the first failure ends the queue's turn, so nothing overtakes a delivery being retried."""
    attempts = []
    for delivery in queue:
        # Signed with the wall clock at sending: receivers check the timestamp's freshness.
        attempt = await webhook.post(client, delivery, now_unix=int(utc_now().timestamp()))
        attempts.append(attempt)
        if not attempt.ok:
            break
    return attempts


async def dispatch_round(
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
    *,
    policy: RetryPolicy,
    now: datetime,
    per_subscription: int = 50,
    subscriptions: int = 100,
    jitter: Callable[[], float] = random.random,
) -> int:
    """One pass: take the due queues, send them (queues in parallel, each in order), record the outcomes.
    At-least-once: a crash between sending and recording sends again, with the same idempotency id."""
    async with NotificationUnitOfWork(sessions) as uow:
        queues = await deliveries.due_queues(
            uow, now=now, per_subscription=per_subscription, subscriptions=subscriptions
        )
    if not queues:
        return 0
    results = await asyncio.gather(*(_send_queue(client, q) for q in queues.values()))
    attempts = [a for queue in results for a in queue]
    async with NotificationUnitOfWork(sessions) as uow:
        await deliveries.record_attempts(uow, attempts, policy=policy, now=now, jitter=jitter)
        await uow.commit()
    return len(attempts)


async def _dispatch_while_locked(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    *,
    policy: RetryPolicy,
    timeout_s: float,
    idle_s: float,
) -> None:
    async with engine.connect() as lock_conn:
        while not await lock_conn.scalar(text("SELECT pg_try_advisory_lock(:id)"), {"id": LOCK_ID}):
            await lock_conn.rollback()
            await asyncio.sleep(5)
        await lock_conn.commit()
        log.info("webhook dispatcher active")
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=100)
        async with httpx.AsyncClient(timeout=timeout_s, limits=limits) as client:
            while True:
                sent = await dispatch_round(sessions, client, policy=policy, now=utc_now())
                if sent == 0:
                    await asyncio.sleep(idle_s)


async def run_dispatcher(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    *,
    policy: RetryPolicy,
    timeout_s: float,
    idle_s: float = 0.2,
) -> None:
    """Forever. A database outage drops the lock; deliveries wait in PostgreSQL until it is back."""
    backoff = 0.5
    while True:
        try:
            await _dispatch_while_locked(engine, sessions, policy=policy, timeout_s=timeout_s, idle_s=idle_s)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("webhook dispatcher stopped; restarting in %.1fs: %r", backoff, exc)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)

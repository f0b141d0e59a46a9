"""The SMS sender job: sends the queued texts through the provider, never in the event handler."""

import asyncio
import logging
import random
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casebridge_common.db import utc_now
from notification_service.channels.sms import SmsProvider
from notification_service.domain.webhooks import RetryPolicy
from notification_service.service_layer import texts
from notification_service.unit_of_work import NotificationUnitOfWork

log = logging.getLogger(__name__)


async def sms_round(
    sessions: async_sessionmaker[AsyncSession],
    provider: SmsProvider,
    *,
    policy: RetryPolicy,
    now: datetime,
    limit: int = 50,
    jitter: Callable[[], float] = random.random,
) -> int:
    async with NotificationUnitOfWork(sessions) as uow:
        due = [(row.id, row.to_number, row.text) for row in await texts.take_due(uow, now=now, limit=limit)]
        await uow.commit()
    if not due:
        return 0
    outcomes = await asyncio.gather(*(provider.send(number, text) for _, number, text in due))
    async with NotificationUnitOfWork(sessions) as uow:
        errors = {message_id: error for (message_id, _, _), error in zip(due, outcomes, strict=True)}
        await texts.record_sent(uow, errors, policy=policy, now=now, jitter=jitter)
        await uow.commit()
    return len(due)


async def run_sms_sender(
    sessions: async_sessionmaker[AsyncSession], provider: SmsProvider, *, policy: RetryPolicy, idle_s: float = 1.0
) -> None:
    backoff = 0.5
    while True:
        try:
            sent = await sms_round(sessions, provider, policy=policy, now=utc_now())
            backoff = 0.5
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a database outage: texts wait in PostgreSQL
            log.warning("SMS round failed; retrying in %.1fs: %r", backoff, exc)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)
            continue
        if sent == 0:
            await asyncio.sleep(idle_s)

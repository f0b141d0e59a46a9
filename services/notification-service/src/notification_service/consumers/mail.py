"""The mailer job: sends the queued e-mails over SMTP, never in the request path or the event handler."""

import asyncio
import logging
import random
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casebridge_common.db import utc_now
from notification_service.channels import email
from notification_service.domain.webhooks import RetryPolicy
from notification_service.service_layer import mail
from notification_service.unit_of_work import NotificationUnitOfWork

log = logging.getLogger(__name__)


async def mail_round(
    sessions: async_sessionmaker[AsyncSession],
    server: email.SmtpServer,
    *,
    policy: RetryPolicy,
    now: datetime,
    limit: int = 50,
    jitter: Callable[[], float] = random.random,
) -> int:
    async with NotificationUnitOfWork(sessions) as uow:
        outgoing = await mail.take_due(uow, now=now, limit=limit)
        await uow.commit()
    if not outgoing:
        return 0
    errors = await asyncio.gather(*(email.send(server, o) for o in outgoing))
    async with NotificationUnitOfWork(sessions) as uow:
        await mail.record_sent(uow, list(zip(outgoing, errors, strict=True)), policy=policy, now=now, jitter=jitter)
        await uow.commit()
    return len(outgoing)


async def run_mailer(
    sessions: async_sessionmaker[AsyncSession], server: email.SmtpServer, *, policy: RetryPolicy, idle_s: float = 1.0
) -> None:
    backoff = 0.5
    while True:
        try:
            sent = await mail_round(sessions, server, policy=policy, now=utc_now())
            backoff = 0.5
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a database outage: mails wait in PostgreSQL
            log.warning("mailer round failed; retrying in %.1fs: %r", backoff, exc)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)
            continue
        if sent == 0:
            await asyncio.sleep(idle_s)

"""`python -m notification_service.worker`: outbox relay, event consumers and the webhook dispatcher."""

import asyncio
import contextlib
import logging

import httpx

from casebridge_common.db import create_engine, session_factory
from casebridge_common.worker import run_worker
from notification_service.channels.email import SmtpServer
from notification_service.channels.sms import HttpSmsProvider
from notification_service.consumers import CONSUMED_TOPICS, HANDLERS
from notification_service.consumers.mail import run_mailer
from notification_service.consumers.texts import run_sms_sender
from notification_service.consumers.webhooks import run_dispatcher
from notification_service.domain.webhooks import RetryPolicy
from notification_service.settings import Settings
from notification_service.unit_of_work import NotificationUnitOfWork


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        base_delay_s=settings.webhook_backoff_base_s,
        max_delay_s=settings.webhook_backoff_max_s,
        max_attempts=settings.webhook_max_attempts,
        pause_after_failures=settings.webhook_pause_after_failures,
    )


def smtp_server(settings: Settings) -> SmtpServer | None:
    if settings.smtp_host is None:
        return None
    return SmtpServer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        starttls=settings.smtp_starttls,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        timeout_s=settings.smtp_timeout_s,
    )


async def _run(settings: Settings) -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per webhook POST would flood the log
    # The shared worker owns the signals; the dispatcher runs beside it and stops with it.
    engine = create_engine(settings.database_url.get_secret_value(), pool_size=4)
    sessions = session_factory(engine)
    jobs = [
        asyncio.create_task(
            run_dispatcher(engine, sessions, policy=retry_policy(settings), timeout_s=settings.webhook_timeout_s),
            name="webhook-dispatcher",
        )
    ]
    if (server := smtp_server(settings)) is not None:
        jobs.append(asyncio.create_task(run_mailer(sessions, server, policy=retry_policy(settings)), name="mailer"))
    sms_client = httpx.AsyncClient(timeout=settings.sms_timeout_s)
    if settings.sms_provider_url is not None:
        key = settings.sms_api_key.get_secret_value() if settings.sms_api_key else None
        provider = HttpSmsProvider(sms_client, url=settings.sms_provider_url, api_key=key)
        jobs.append(asyncio.create_task(run_sms_sender(sessions, provider, policy=retry_policy(settings)), name="sms"))
    try:
        await run_worker(settings, new_uow=NotificationUnitOfWork, handlers=HANDLERS, consumed_topics=CONSUMED_TOPICS)
    finally:
        for job in jobs:
            job.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await job
        await sms_client.aclose()
        await engine.dispose()


def main() -> None:
    asyncio.run(_run(Settings()))


if __name__ == "__main__":
    main()

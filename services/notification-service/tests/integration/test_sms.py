"""SMS through the HTTP provider adapter against a real HTTP receiver on 127.0.0.1, started here."""

import asyncio
import json
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta

import httpx
import pytest
import uvicorn
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from casebridge_common.auth import Principal
from casebridge_common.db import utc_now
from casebridge_common.events.contracts.notification import NotificationDelivered, NotificationFailed
from casebridge_common.events.contracts.scoring import Administration, SurveyDue
from casebridge_common.events.envelope import CloudEvent
from casebridge_common.outbox import OutboxMessage
from notification_service.channels.sms import HttpSmsProvider
from notification_service.consumers.events import on_event
from notification_service.consumers.texts import sms_round
from notification_service.domain.errors import PhoneNumberRequired
from notification_service.domain.models import Channel, Language, MailStatus, SmsMessage
from notification_service.domain.webhooks import RetryPolicy
from notification_service.service_layer import preferences
from notification_service.unit_of_work import NotificationUnitOfWork

Sessions = async_sessionmaker[AsyncSession]
POLICY = RetryPolicy(base_delay_s=60, max_delay_s=60, max_attempts=2, pause_after_failures=100)
KEY = "sms-test-key"


class Provider:
    """Accepts texts with the right bearer key; `failing` answers 503."""

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []
        self.failing = False

    async def endpoint(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {KEY}":
            return Response(status_code=401)
        if self.failing:
            return Response("down for maintenance", status_code=503)
        self.received.append(json.loads(await request.body()))
        return Response(status_code=202)


@pytest.fixture
async def provider() -> AsyncIterator[tuple[Provider, str]]:
    receiver = Provider()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    app = Starlette(routes=[Route("/messages", receiver.endpoint, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))  # the socket already listens: no request is lost
    yield receiver, f"http://127.0.0.1:{sock.getsockname()[1]}/messages"
    server.should_exit = True
    await task
    sock.close()


async def prefer_sms(sessions: Sessions, actor: Principal) -> None:
    async with NotificationUnitOfWork(sessions) as uow:
        await preferences.set_preferences(
            uow,
            channels=[Channel.SMS],
            email_address=None,
            phone_number="+4915112345678",
            language=Language.EN,
            timezone="UTC",
            quiet_hours=None,
            digest=False,
            if_match='"0"',
            actor=actor,
            now=utc_now(),
        )
        await uow.commit()


async def survey_due(sessions: Sessions) -> uuid.UUID:
    due = SurveyDue(
        survey_schedule_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        owner_office_id="de-berlin",
        administration=Administration.BASELINE,
        instrument="rss",
        due_on=date(2027, 1, 3),
    )
    await on_event(CloudEvent.wrap(due, source="/casebridge/scoring-service"), NotificationUnitOfWork(sessions))
    return due.case_id


async def emitted(sessions: Sessions, event_type: str) -> list[dict[str, object]]:
    async with NotificationUnitOfWork(sessions) as uow:
        rows = (
            await uow.session.scalars(
                select(OutboxMessage).where(col(OutboxMessage.event)["type"].astext == event_type)
            )
        ).all()
    return [r.event["data"] for r in rows]


async def texts(sessions: Sessions) -> list[SmsMessage]:
    async with NotificationUnitOfWork(sessions) as uow:
        return list((await uow.session.scalars(select(SmsMessage))).all())


async def test_a_reminder_reaches_the_provider_with_the_bearer_key_once(
    committed_sessions: Sessions, provider: tuple[Provider, str], berlin: Principal
) -> None:
    receiver, url = provider
    await prefer_sms(committed_sessions, berlin)
    case_id = await survey_due(committed_sessions)
    async with httpx.AsyncClient() as client:
        sms = HttpSmsProvider(client, url=url, api_key=KEY)
        assert await sms_round(committed_sessions, sms, policy=POLICY, now=utc_now()) == 1
        assert await sms_round(committed_sessions, sms, policy=POLICY, now=utc_now()) == 0
    assert receiver.received == [{"to": "+4915112345678", "text": f"Survey due by 2027-01-03 ({case_id})"}]
    [delivered] = await emitted(committed_sessions, NotificationDelivered.type)
    assert delivered["channel"] == "sms"


async def test_a_failing_provider_is_retried_with_backoff_then_the_text_fails(
    committed_sessions: Sessions, provider: tuple[Provider, str], berlin: Principal
) -> None:
    receiver, url = provider
    receiver.failing = True
    await prefer_sms(committed_sessions, berlin)
    await survey_due(committed_sessions)
    now = utc_now()
    async with httpx.AsyncClient() as client:
        sms = HttpSmsProvider(client, url=url, api_key=KEY)
        assert await sms_round(committed_sessions, sms, policy=POLICY, now=now, jitter=lambda: 0.5) == 1
        [waiting] = await texts(committed_sessions)
        assert (waiting.status, waiting.attempts) == (MailStatus.PENDING, 1)
        assert waiting.last_error == "HTTP 503: down for maintenance"
        assert waiting.next_attempt_at > now
        assert await sms_round(committed_sessions, sms, policy=POLICY, now=now + timedelta(seconds=1)) == 0
        later = now + timedelta(hours=1)
        assert await sms_round(committed_sessions, sms, policy=POLICY, now=later, jitter=lambda: 0.5) == 1
    [failed] = await texts(committed_sessions)
    assert (failed.status, failed.attempts) == (MailStatus.FAILED, 2)
    assert receiver.received == []
    [event] = await emitted(committed_sessions, NotificationFailed.type)
    assert (event["channel"], event["attempts"]) == ("sms", 2)


async def test_a_wrong_key_is_an_error_for_a_retry(provider: tuple[Provider, str]) -> None:
    _, url = provider
    async with httpx.AsyncClient() as client:
        error = await HttpSmsProvider(client, url=url, api_key="wrong").send("+221771234567", "hello")
    assert error is not None
    assert error.startswith("HTTP 401")


async def test_an_unreachable_provider_is_an_error_for_a_retry() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with httpx.AsyncClient() as client:
        error = await HttpSmsProvider(client, url=f"http://127.0.0.1:{port}/x", api_key=KEY).send("+221771234567", "hi")
    assert error is not None
    assert error.startswith("ConnectError")


async def test_without_the_sms_channel_no_text_is_queued(committed_sessions: Sessions) -> None:
    await survey_due(committed_sessions)
    assert await texts(committed_sessions) == []


async def test_the_sms_channel_needs_a_phone_number(sessions: Sessions, berlin: Principal) -> None:
    async with NotificationUnitOfWork(sessions) as uow:
        with pytest.raises(PhoneNumberRequired):
            await preferences.set_preferences(
                uow,
                channels=[Channel.SMS],
                email_address=None,
                language=Language.EN,
                timezone="UTC",
                quiet_hours=None,
                digest=False,
                if_match='"0"',
                actor=berlin,
                now=utc_now(),
            )

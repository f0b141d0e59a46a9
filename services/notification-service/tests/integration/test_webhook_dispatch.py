"""The dispatcher against a real HTTP receiver on 127.0.0.1 that verifies every signature."""

import asyncio
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

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
from casebridge_common.events.contracts.case import CaseOpened, Programme
from casebridge_common.events.contracts.notification import WebhookPaused
from casebridge_common.events.envelope import CloudEvent
from casebridge_common.outbox import OutboxMessage
from notification_service.consumers.events import on_event
from notification_service.consumers.webhooks import dispatch_round
from notification_service.domain.models import DeliveryStatus, Subscription, SubscriptionStatus
from notification_service.domain.webhooks import SIGNATURE_HEADER, RetryPolicy, verify_signature
from notification_service.service_layer import subscriptions
from notification_service.unit_of_work import NotificationUnitOfWork


@dataclass
class Received:
    event_id: str
    idempotency_key: str
    body: bytes
    signature_valid: bool
    answered: int


@dataclass
class Receiver:
    """A partner's webhook endpoint on 127.0.0.1: verifies every signature, fails on purpose when told to."""

    url: str = ""
    secrets: list[str] = field(default_factory=list)
    fail_next: int = 0
    always_fail: bool = False
    requests: list[Received] = field(default_factory=list)

    @property
    def accepted(self) -> list[Received]:
        return [r for r in self.requests if r.answered == 204]

    async def endpoint(self, request: Request) -> Response:
        body = await request.body()
        header = request.headers.get(SIGNATURE_HEADER, "")
        valid = any(verify_signature(s, header, body, now=int(time.time())) for s in self.secrets)
        if self.always_fail or self.fail_next > 0:
            self.fail_next = max(0, self.fail_next - 1)
            status = 503
        else:
            status = 204 if valid else 401
        self.requests.append(
            Received(
                event_id=request.headers.get("CaseBridge-Event-Id", ""),
                idempotency_key=request.headers.get("Idempotency-Key", ""),
                body=body,
                signature_valid=valid,
                answered=status,
            )
        )
        return Response(status_code=status)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A real HTTP server (uvicorn) on a free loopback port, in this test's event loop."""
    hook = Receiver()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = Starlette(routes=[Route("/hooks", hook.endpoint, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    sock.listen(128)  # connections wait in the backlog until the server accepts them
    task = asyncio.create_task(server.serve(sockets=[sock]))
    hook.url = f"http://127.0.0.1:{port}/hooks"
    yield hook
    server.should_exit = True
    await task
    sock.close()


POLICY = RetryPolicy(base_delay_s=60, max_delay_s=600, max_attempts=4, pause_after_failures=3)
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as http:
        yield http


async def subscribe(sessions: Sessions, receiver: Receiver, actor: Principal) -> Subscription:
    async with NotificationUnitOfWork(sessions) as uow:
        subscription = subscriptions.create_subscription(
            uow,
            event_types=[CaseOpened.type],
            url=receiver.url,
            event_filter={},
            description=None,
            environment="test",
            actor=actor,
            now=utc_now(),
        )
        await uow.commit()
    receiver.secrets.append(subscription.secret)
    return subscription


async def case_opened(sessions: Sessions, office: str = "de-berlin") -> str:
    event = CloudEvent.wrap(
        CaseOpened(
            case_id=uuid.uuid4(),
            case_version=1,
            beneficiary_id=uuid.uuid4(),
            programme=Programme.RETURN_REINTEGRATION,
            owner_office_id=office,
            owner_organisation_id="iom-germany",
            opened_at=datetime.now(UTC),
        ),
        source="/casebridge/case-service",
    )
    await on_event(event, NotificationUnitOfWork(sessions))
    return event.id


async def rounds(sessions: Sessions, client: httpx.AsyncClient, *, at: datetime) -> int:
    return await dispatch_round(sessions, client, policy=POLICY, now=at, jitter=lambda: 1.0)


async def statuses(sessions: Sessions, subscription_id: uuid.UUID) -> list[tuple[str, int]]:
    async with NotificationUnitOfWork(sessions) as uow:
        rows = await uow.deliveries.page(subscription_id, status=None, after=None, limit=50)
    return [(d.status.value, d.attempts) for d in reversed(rows)]


async def test_deliveries_are_signed_carry_the_event_id_and_arrive_in_order(
    sessions: Sessions, client: httpx.AsyncClient, receiver: Receiver, berlin: Principal
) -> None:
    subscription = await subscribe(sessions, receiver, berlin)
    event_ids = [await case_opened(sessions) for _ in range(3)]
    assert await rounds(sessions, client, at=utc_now()) == 3
    assert [r.event_id for r in receiver.accepted] == event_ids
    assert all(r.signature_valid and r.idempotency_key == r.event_id for r in receiver.requests)
    assert [json.loads(r.body)["type"] for r in receiver.accepted] == [CaseOpened.type] * 3
    assert await statuses(sessions, subscription.id) == [("succeeded", 1)] * 3
    assert await rounds(sessions, client, at=utc_now()) == 0  # nothing is sent twice


async def test_a_failure_holds_the_queue_then_retries_with_backoff_in_order(
    sessions: Sessions, client: httpx.AsyncClient, receiver: Receiver, berlin: Principal
) -> None:
    subscription = await subscribe(sessions, receiver, berlin)
    event_ids = [await case_opened(sessions) for _ in range(3)]
    receiver.fail_next = 2
    t0 = utc_now()
    assert await rounds(sessions, client, at=t0) == 1  # the head failed; nothing overtook it
    assert await rounds(sessions, client, at=t0 + timedelta(seconds=30)) == 0  # backing off (60 s)
    assert await rounds(sessions, client, at=t0 + timedelta(seconds=61)) == 1  # second failure (now 120 s)
    assert await rounds(sessions, client, at=t0 + timedelta(seconds=120)) == 0
    assert await rounds(sessions, client, at=t0 + timedelta(seconds=200)) == 3
    assert [r.event_id for r in receiver.requests] == [event_ids[0], event_ids[0], *event_ids]
    assert [r.event_id for r in receiver.accepted] == event_ids
    assert await statuses(sessions, subscription.id) == [("succeeded", 3), ("succeeded", 1), ("succeeded", 1)]


async def test_a_dead_endpoint_is_paused_its_owner_told_and_resumed_without_losing_events(
    sessions: Sessions, client: httpx.AsyncClient, receiver: Receiver, berlin: Principal
) -> None:
    subscription = await subscribe(sessions, receiver, berlin)
    event_ids = [await case_opened(sessions) for _ in range(2)]
    receiver.always_fail = True
    t0 = utc_now()
    for minutes in (0, 2, 10):  # three failures in a row: the pause threshold
        assert await rounds(sessions, client, at=t0 + timedelta(minutes=minutes)) == 1
    assert await rounds(sessions, client, at=t0 + timedelta(hours=5)) == 0  # paused: no retry storm
    async with NotificationUnitOfWork(sessions) as uow:
        paused = await uow.subscriptions.get(berlin, subscription.id)
        assert paused is not None
        assert (paused.status, paused.consecutive_failures) == (SubscriptionStatus.PAUSED, 3)
        notices = await uow.inbox_items.page(
            berlin, unread=True, kind="webhook_paused", case_id=None, archived=False, after=None, limit=50
        )
        assert any(receiver.url in n.title for n in notices)
        emitted = (
            await uow.session.scalars(
                select(OutboxMessage).where(col(OutboxMessage.event)["type"].astext == WebhookPaused.type)
            )
        ).all()
        assert [e.event["data"]["subscription_id"] for e in emitted] == [str(subscription.id)]
    receiver.always_fail = False
    async with NotificationUnitOfWork(sessions) as uow:
        await subscriptions.change_status(
            uow,
            subscription.id,
            status=SubscriptionStatus.ACTIVE,
            if_match=f'"{paused.version}"',
            actor=berlin,
            now=utc_now(),
        )
        await uow.commit()
    assert await rounds(sessions, client, at=t0 + timedelta(hours=6)) == 2
    assert [r.event_id for r in receiver.accepted] == event_ids


async def test_a_delivery_is_marked_failed_after_its_last_attempt_and_the_queue_moves_on(
    sessions: Sessions, client: httpx.AsyncClient, receiver: Receiver, berlin: Principal
) -> None:
    subscription = await subscribe(sessions, receiver, berlin)
    policy = RetryPolicy(base_delay_s=1, max_delay_s=1, max_attempts=2, pause_after_failures=100)  # never pauses
    first, second = await case_opened(sessions), await case_opened(sessions)
    receiver.fail_next = 2
    t0 = utc_now()
    for seconds in (0, 5, 10):
        await dispatch_round(sessions, client, policy=policy, now=t0 + timedelta(seconds=seconds))
    assert await statuses(sessions, subscription.id) == [("failed", 2), ("succeeded", 1)]
    assert [r.event_id for r in receiver.accepted] == [second]
    assert [r.event_id for r in receiver.requests[:2]] == [first, first]


async def test_a_replay_sends_the_same_event_again_with_the_same_idempotency_id(
    sessions: Sessions, client: httpx.AsyncClient, receiver: Receiver, berlin: Principal
) -> None:
    subscription = await subscribe(sessions, receiver, berlin)
    event_id = await case_opened(sessions)
    await rounds(sessions, client, at=utc_now())
    async with NotificationUnitOfWork(sessions) as uow:
        [delivered] = await uow.deliveries.page(subscription.id, status=DeliveryStatus.SUCCEEDED, after=None, limit=5)
        replay = await subscriptions.replay_delivery(uow, subscription.id, delivered.id, actor=berlin, now=utc_now())
        await uow.commit()
    assert await rounds(sessions, client, at=utc_now()) == 1
    assert [r.idempotency_key for r in receiver.accepted] == [event_id, event_id]
    assert receiver.accepted[0].body == receiver.accepted[1].body
    async with NotificationUnitOfWork(sessions) as uow:
        again = await uow.deliveries.get(subscription.id, replay.id)
    assert again is not None
    assert (again.status, again.replay_of) == (DeliveryStatus.SUCCEEDED, delivered.id)


async def test_each_subscription_has_its_own_queue(
    sessions: Sessions, client: httpx.AsyncClient, receiver: Receiver, berlin: Principal
) -> None:
    failing = await subscribe(sessions, receiver, berlin)
    async with NotificationUnitOfWork(sessions) as uow:
        row = await uow.subscriptions.get(berlin, failing.id, for_update=True)
        assert row is not None
        row.url = receiver.url.replace("/hooks", "/missing")  # answers 404
        await uow.commit()
    healthy = await subscribe(sessions, receiver, berlin)
    await case_opened(sessions)
    assert await rounds(sessions, client, at=utc_now()) == 2
    assert await statuses(sessions, failing.id) == [("pending", 1)]
    assert await statuses(sessions, healthy.id) == [("succeeded", 1)]

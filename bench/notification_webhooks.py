"""Sustained webhook deliveries per second to a local receiver (target: 1,000/s on this machine).

Prints notification-service's dispatcher (queue heads from PostgreSQL, HMAC signing, POST, outcomes recorded,
per-subscription order kept) beside a plain HTTP POST loop to the same receiver, both measured in this run:
one subscription (strictly sequential, like the baseline) and ten subscriptions (queues in parallel).
Needs the local PostgreSQL (BENCH_POSTGRES_URL, default postgresql://postgres@127.0.0.1:55432); it creates
and drops a private database.
"""

import asyncio
import os
import socket
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from casebridge_common.auth import Principal
from casebridge_common.db import utc_now
from casebridge_common.events.contracts.case import CaseOpened, Programme
from casebridge_common.events.envelope import CloudEvent
from casebridge_common.migrations import upgrade
from notification_service.consumers.webhooks import dispatch_round
from notification_service.domain.webhooks import RetryPolicy
from notification_service.service_layer import subscriptions
from notification_service.unit_of_work import NotificationUnitOfWork

ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:55432")
SERVICE_DIR = Path(__file__).resolve().parents[1] / "services" / "notification-service"
EVENTS = 3000
BERLIN = Principal("bench", "bench", "iom-germany", "de-berlin", "DE", frozenset(), frozenset())


async def receiver() -> tuple[uvicorn.Server, asyncio.Task[None], str]:
    async def accept(request: Request) -> Response:
        await request.body()
        return Response(status_code=204)

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    server = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=[Route("/hooks", accept, methods=["POST"])]), log_level="warning", lifespan="off"
        )
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    return server, task, f"http://127.0.0.1:{sock.getsockname()[1]}/hooks"


def an_event() -> CloudEvent:
    return CloudEvent.wrap(
        CaseOpened(
            case_id=uuid.uuid4(),
            case_version=1,
            beneficiary_id=uuid.uuid4(),
            programme=Programme.RETURN_REINTEGRATION,
            owner_office_id="de-berlin",
            owner_organisation_id="iom-germany",
            opened_at=datetime.now(UTC),
        ),
        source="/casebridge/case-service",
    )


async def baseline(client: httpx.AsyncClient, url: str) -> float:
    body = an_event().model_dump_json().encode()
    start = time.perf_counter()
    for _ in range(EVENTS):
        (await client.post(url, content=body, headers={"Content-Type": "application/json"})).raise_for_status()
    return EVENTS / (time.perf_counter() - start)


async def dispatcher(sessions: async_sessionmaker[AsyncSession], client: httpx.AsyncClient, url: str, n: int) -> float:
    async with NotificationUnitOfWork(sessions) as uow:
        for _ in range(n):
            subscriptions.create_subscription(
                uow,
                event_types=[CaseOpened.type],
                url=url,
                event_filter={},
                description=None,
                environment="local",
                actor=BERLIN,
                now=utc_now(),
            )
        await uow.commit()
    async with NotificationUnitOfWork(sessions) as uow:
        for _ in range(EVENTS // n):
            await subscriptions.fan_out(uow, an_event(), now=utc_now())
        await uow.commit()
    policy, delivered = RetryPolicy(), 0
    start = time.perf_counter()
    while delivered < EVENTS // n * n:
        delivered += await dispatch_round(sessions, client, policy=policy, now=utc_now(), per_subscription=200)
    return delivered / (time.perf_counter() - start)


async def main() -> None:
    name = f"bench_notification_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN_URL + "/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.replace("postgresql://", "postgresql+asyncpg://", 1) + "/" + name
    server, task, hook = await receiver()
    try:
        await asyncio.to_thread(upgrade, SERVICE_DIR, url)
        engine = create_async_engine(url, pool_size=5)
        sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=100)) as client:
            plain = await baseline(client, hook)
            one = await dispatcher(sessions, client, hook, 1)
            async with engine.begin() as conn:
                await conn.exec_driver_sql("TRUNCATE webhook_deliveries, subscriptions")
            ten = await dispatcher(sessions, client, hook, 10)
        await engine.dispose()
    finally:
        server.should_exit = True
        await task
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    print(f"webhook deliveries to a local receiver, {EVENTS} events (target 1,000/s):")
    print(f"  baseline: plain HTTP POST loop        {plain:8.0f} /s")
    print(f"  dispatcher, 1 subscription (ordered)  {one:8.0f} /s")
    print(f"  dispatcher, 10 subscriptions          {ten:8.0f} /s")


if __name__ == "__main__":
    asyncio.run(main())

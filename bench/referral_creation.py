"""Referral creation throughput, including the consent-projected snapshot and the outbox write, beside a bare
single-row insert baseline from the same run.

`python bench/referral_creation.py [--referrals 1000] [--cases 200] [--concurrency 4]` against the local
PostgreSQL (`BENCH_POSTGRES_URL`, default postgresql://postgres@127.0.0.1:55432). It creates a scratch database,
migrates it with referral-service's Alembic history, loads the demo directory and `--cases` cases whose
beneficiaries consented to their identity and contact going to cfp-dakar, measures, and drops it again.

All in-process through referral-service's service layer and unit of work, as the API runs them:
- baseline: one row inserted into a two-column scratch table, one transaction per row (the floor of a commit);
- create: `create_referral` — the case and consent facts read, the access policy's projection, the snapshot,
  the referral row and its audit entry (hash-chained), one transaction;
- create + send: the above, then `send_referral` in a second transaction as `POST /v1/referrals/{id}/send` does
  — row locks, the snapshot rebuilt and compared, deadlines, the `referral.sent` outbox row, the disclosure
  ledger row and the audit entry.
Each is run sequentially (latency p50/p95) and with `--concurrency` workers on as many connections (throughput).
"""

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casebridge_common.access import ConsentStatus, DataCategory, Purpose
from casebridge_common.auth import Principal
from casebridge_common.db import create_engine, session_factory
from casebridge_common.events.contracts.case import CaseOpened, Programme
from casebridge_common.events.contracts.consent import ConsentGiven, ScopeTerms
from casebridge_common.events.envelope import CloudEvent
from referral_service.api.dependencies import deadline_policy
from referral_service.consumers import on_case_opened, on_consent_given
from referral_service.schemas import CreateReferral, DirectoryImport
from referral_service.service_layer import referrals
from referral_service.service_layer.directory import load_directory
from referral_service.settings import Settings
from referral_service.unit_of_work import ReferralUnitOfWork

ROOT = Path(__file__).resolve().parents[1]
ADMIN = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:55432")
DEMO = ROOT / "deploy" / "demo" / "directory.json"
BERLIN = Principal(
    subject="bench-case-manager",
    client_id="de-berlin-system",
    organisation_id="iom-germany",
    office_id="de-berlin",
    country="DE",
    scopes=frozenset({"referrals:send", "referrals:read"}),
    roles=frozenset({"case_manager"}),
)
SOURCE = "/casebridge/case-service"
Sessions = async_sessionmaker[AsyncSession]


async def _seed(sessions: Sessions, cases: int) -> list[uuid.UUID]:
    now = datetime.now(UTC)
    async with ReferralUnitOfWork(sessions) as uow:
        await load_directory(uow, DirectoryImport.model_validate_json(DEMO.read_text()), now=now)
        await uow.commit()
    case_ids = []
    for _ in range(cases):
        case_id, beneficiary_id = uuid.uuid4(), uuid.uuid4()
        opened = CaseOpened(
            case_id=case_id,
            case_version=1,
            beneficiary_id=beneficiary_id,
            programme=Programme.RETURN_REINTEGRATION,
            owner_office_id="de-berlin",
            owner_organisation_id="iom-germany",
            opened_at=now,
        )
        await on_case_opened(CloudEvent.wrap(opened, source=SOURCE), ReferralUnitOfWork(sessions))
        consent = ConsentGiven(
            consent_id=uuid.uuid4(),
            beneficiary_id=beneficiary_id,
            case_ids=[case_id],
            owner_office_id="de-berlin",
            status=ConsentStatus.GIVEN,
            renewed=False,
            supersedes=None,
            scopes=[
                ScopeTerms(
                    data_categories=[DataCategory.IDENTITY_BIODATA, DataCategory.CONTACT],
                    purposes=[Purpose.REFERRAL_SERVICE_DELIVERY],
                    organisations=["cfp-dakar"],
                )
            ],
            valid_from=now - timedelta(days=1),
            valid_until=None,
        )
        await on_consent_given(CloudEvent.wrap(consent, source=SOURCE), ReferralUnitOfWork(sessions))
        case_ids.append(case_id)
    return case_ids


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18]


async def _sequential(run: Callable[[int], Awaitable[object]], count: int, offset: int) -> list[float]:
    samples = []
    for i in range(count):
        started = time.perf_counter()
        await run(offset + i)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def _concurrent(run: Callable[[int], Awaitable[object]], count: int, workers: int, offset: int) -> float:
    """Operations per second with `workers` coroutines sharing `count` operations."""
    queue = iter(range(offset, offset + count))

    async def worker() -> None:
        for i in queue:
            await run(i)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return count / (time.perf_counter() - started)


async def main(count: int, cases: int, concurrency: int) -> None:
    database = f"referral_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN + "/postgres")
    await admin.execute(f'CREATE DATABASE "{database}"')
    url = f"{ADMIN}/{database}"
    engine = None
    try:
        env = os.environ | {"DATABASE_URL": url.replace("postgresql:", "postgresql+asyncpg:")}
        migrate = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "casebridge_common.operations",
            "migrate",
            "--service-dir",
            str(ROOT / "services" / "referral-service"),
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
        )
        if await migrate.wait() != 0:
            raise RuntimeError("migrating the scratch database failed")
        engine = create_engine(url.replace("postgresql:", "postgresql+asyncpg:"), pool_size=concurrency)
        sessions = session_factory(engine)
        case_ids = await _seed(sessions, cases)
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE bench_rows (id uuid PRIMARY KEY, created_at timestamptz NOT NULL)"))
        policy = deadline_policy(Settings(database_url="postgresql+asyncpg://unused/x", oidc_issuer="http://idp"))

        async def insert(_: int) -> None:
            async with ReferralUnitOfWork(sessions) as uow:
                await uow.session.execute(text("INSERT INTO bench_rows VALUES (:id, now())"), {"id": uuid.uuid4()})
                await uow.commit()

        async def create(i: int) -> uuid.UUID:
            body = CreateReferral.model_validate(
                {
                    "case_id": case_ids[i % len(case_ids)],
                    "destination": {"service_id": "cfp-dakar-tvet-dakar"},
                    "reason": "Wants a tailoring apprenticeship, as agreed in the reintegration plan.",
                }
            )
            async with ReferralUnitOfWork(sessions) as uow:
                referral = await referrals.create_referral(
                    uow, body, policy=policy, actor=BERLIN, now=datetime.now(UTC)
                )
                await uow.commit()
            return referral.id

        async def create_and_send(i: int) -> None:
            referral_id = await create(i)
            async with ReferralUnitOfWork(sessions) as uow:
                await referrals.send_referral(
                    uow, referral_id, policy=policy, if_match='"1"', actor=BERLIN, now=datetime.now(UTC)
                )
                await uow.commit()

        for run in (insert, create, create_and_send):  # warm the pool, the plan cache and the imports
            for i in range(20):
                await run(i)
        results = []
        for name, run in (
            ("baseline (one-row insert)", insert),
            ("create", create),
            ("create + send", create_and_send),
        ):
            latencies = await _sequential(run, count, offset=0)
            throughput = await _concurrent(run, count, concurrency, offset=count)
            results.append((name, latencies, throughput))
        floor = 1000 / statistics.mean(results[0][1])
        lines = [
            f"referral creation, {count} operations per measurement over {cases} cases, "
            f"concurrency {concurrency} (machine: {os.cpu_count()} cores, shared)\n"
        ]
        for name, latencies, throughput in results:
            sequential = 1000 / statistics.mean(latencies)
            lines.append(
                f"  {name:26} p50 {statistics.median(latencies):6.2f} ms  p95 {_p95(latencies):6.2f} ms"
                f"  sequential {sequential:7.1f}/s  x{concurrency} {throughput:7.1f}/s"
                f"  ({sequential / floor:4.2f} of the baseline's sequential rate)\n"
            )
        sys.stdout.write("".join(lines))
    finally:
        if engine is not None:
            await engine.dispose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--referrals", type=int, default=1000)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.referrals, arguments.cases, arguments.concurrency))

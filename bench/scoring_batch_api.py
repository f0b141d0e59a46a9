"""Batch scoring API throughput, end to end, beside the same surveys scored in-process without I/O.

`python bench/scoring_batch_api.py [--surveys 2000] [--cases 500] [--batches 2]` against the local PostgreSQL
(`BENCH_POSTGRES_URL`, default postgresql://postgres@127.0.0.1:55432) and OIDC provider (`BENCH_OIDC_ISSUER`,
default http://127.0.0.1:9400). It creates a scratch database, migrates it with scoring-service's Alembic
history, announces the cases through the `case.opened` handler as case-service would, and drops it again.

Measured: `POST /v1/surveys/batches` on the scoring API app in-process (ASGI, no network hop), with a real
client-credentials token of `de-berlin-system`: request validation, the office check of every case, scoring,
the survey, score, schedule, outbox and audit rows, one commit per request. Every item must be accepted.
Baseline: `score()` over the same answers in the same run, no I/O, no request parsing.
"""

import argparse
import asyncio
import logging
import os
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
from asgi_lifespan import LifespanManager

from casebridge_common.db import create_engine, session_factory
from casebridge_common.events.contracts.case import CaseOpened, Programme
from casebridge_common.events.envelope import CloudEvent
from casebridge_common.testing.tokens import client_credentials_token, demo_client_secret
from scoring_service.consumers import handlers
from scoring_service.domain.scoring import Answer, score
from scoring_service.instruments import shipped
from scoring_service.instruments.worked_examples import T1, T2, T3, T4, T5, T6
from scoring_service.main import create_app
from scoring_service.settings import Settings
from scoring_service.unit_of_work import ScoringUnitOfWork

ROOT = Path(__file__).resolve().parents[1]
ADMIN = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:55432")
ISSUER = os.environ.get("BENCH_OIDC_ISSUER", "http://127.0.0.1:9400")
CLIENT = "de-berlin-system"
ANSWERS: list[dict[str, Answer]] = [T1, T2, T3, T4, T5, T6]


async def _migrate(url: str) -> None:
    env = os.environ | {"DATABASE_URL": url.replace("postgresql:", "postgresql+asyncpg:")}
    migrate = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "casebridge_common.operations",
        "migrate",
        "--service-dir",
        str(ROOT / "services" / "scoring-service"),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
    )
    if await migrate.wait() != 0:
        raise RuntimeError("migrating the scratch database failed")


async def _open_cases(url: str, count: int) -> list[uuid.UUID]:
    engine = create_engine(url.replace("postgresql:", "postgresql+asyncpg:"), pool_size=2)
    handle = handlers(baseline_window_days=30)[CaseOpened.type]
    cases = []
    try:
        for _ in range(count):
            opened = CaseOpened(
                case_id=uuid.uuid4(),
                case_version=1,
                beneficiary_id=uuid.uuid4(),
                programme=Programme.RETURN_REINTEGRATION,
                owner_office_id="de-berlin",
                owner_organisation_id="iom-germany",
                opened_at=datetime.now(UTC),
            )
            await handle(
                CloudEvent.wrap(opened, source="/casebridge/case-service"), ScoringUnitOfWork(session_factory(engine))
            )
            cases.append(opened.case_id)
    finally:
        await engine.dispose()
    return cases


def _items(cases: list[uuid.UUID], surveys: int, batch: int) -> list[dict[str, object]]:
    """Historical administrations: per case a baseline, then repeats three months apart, answers T1-T6."""
    start = date(2026, 1, 5)
    items: list[dict[str, object]] = []
    for n in range(surveys):
        case, round_ = cases[n % len(cases)], batch * surveys // len(cases) + n // len(cases)
        items.append(
            {
                "case_id": str(case),
                "instrument": "rss",
                "instrument_version": "rss-default-v0",
                "administration": "baseline" if round_ == 0 else "repeat",
                "interviewed_on": (start + timedelta(days=91 * round_)).isoformat(),
                "mode": "in_person",
                "consent_form": "written",
                "interviewer_independent_of_case": True,
                "answers": ANSWERS[n % len(ANSWERS)],
            }
        )
    return items


def _in_process(surveys: int) -> float:
    rss = next(d for d in shipped() if d.version == "rss-default-v0")
    answers = [ANSWERS[n % len(ANSWERS)] for n in range(surveys)]
    score(rss, answers[0])  # the instrument's lookups are built once per version, before timing
    start = time.perf_counter()
    for one in answers:
        score(rss, one)
    return surveys / (time.perf_counter() - start)


async def main(surveys: int, cases: int, batches: int) -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would drown the figures
    database = f"scoring_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN + "/postgres")
    await admin.execute(f'CREATE DATABASE "{database}"')
    url = f"{ADMIN}/{database}"
    try:
        await _migrate(url)
        case_ids = await _open_cases(url, cases)
        token = client_credentials_token(
            ISSUER,
            CLIENT,
            demo_client_secret(CLIENT),
            resource="urn:casebridge:scoring-api",
            scope="surveys:submit surveys:read scores:read",
        )
        settings = Settings(
            database_url=url.replace("postgresql:", "postgresql+asyncpg:"),
            oidc_issuer=ISSUER,
            environment="test",
        )
        sys.stdout.write(f"batch scoring API: {batches} request(s) of {surveys} RSS surveys over {cases} cases\n")
        async with LifespanManager(create_app(settings)) as manager:
            transport = httpx.ASGITransport(manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://scoring-service", timeout=600) as http:
                headers = {"Authorization": f"Bearer {token}"}
                for batch in range(batches):
                    body = {"items": _items(case_ids, surveys, batch)}
                    baseline = _in_process(surveys)
                    start = time.perf_counter()
                    response = await http.post("/v1/surveys/batches", json=body, headers=headers)
                    elapsed = time.perf_counter() - start
                    if response.status_code != 200 or response.json()["accepted"] != surveys:
                        raise RuntimeError(f"batch {batch} not fully accepted: {response.text[:2000]}")
                    sys.stdout.write(
                        f"  batch {batch + 1}: in-process score() baseline {baseline:>10,.0f} surveys/s"
                        f"   POST /v1/surveys/batches {surveys / elapsed:>8,.0f} surveys/s ({elapsed:.2f} s)\n"
                    )
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--surveys", type=int, default=2000, help="surveys per request (at most 5,000)")
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--batches", type=int, default=2, help="requests, one after the other")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.surveys, arguments.cases, arguments.batches))

"""case-service: open-case throughput beside a bare insert, and case read/list latency from 10k to 1M cases.

`python bench/case_service.py [--open-cases 400] [--concurrency 4,8,16] [--rounds 5] [--sizes 10000,1000000]
[--queries 200] [--budget-s 60]`
against the local PostgreSQL (`BENCH_POSTGRES_URL`, default postgresql://postgres@127.0.0.1:55432) and OIDC
provider (`BENCH_OIDC_ISSUER`, default http://127.0.0.1:9400). It creates a scratch database, migrates it with
case-service's Alembic history, measures, and drops it again; the stack's own databases are never touched.
Both apps run in-process behind the same httpx ASGI client, so the client's cost is in both figures; and the
tracer provider case-service sets for the process gives the bare app's requests a server span too (FastAPI's own
telemetry), as it would in any traced service.

(a) Open-case throughput: authenticated `POST /v1/cases` through the real app (token verification, then one
    statement that locks the beneficiary's row and writes the case, its sync-journal row, the `case.opened`
    outbox row, its audit entry and its monitoring mark), beside a bare FastAPI + asyncpg app inserting one row
    per request, measured in the same run with the same pool size, at each number of requests in flight of
    `--concurrency`, in alternating rounds (`--rounds`). An app's throughput is the rate it sustains saturated:
    its best round at any of these levels (other load on the machine only ever slows a round). With many
    requests in flight both spend more on waiting for the pool. Each level's best rates, their ratio and the
    median of its rounds' own ratios are printed too. Target: at least 0.6 of the bare figure.
(b) Latency: `GET /v1/cases/{id}`, a filtered first page `GET /v1/cases?programme=…&stage=…` and one filtered
    by the beneficiary's country of origin (`COUNTRY_FILTERS`) as the Berlin office, p50/p95, at each size of
    `--sizes` (the same database, topped up with the synthetic generator's COPY writer between sizes; 10 offices,
    Berlin owning a tenth). Targets: p95 < 20 ms by id and < 50 ms for a filtered page at 1M, flat from 10k to
    1M.
"""

# ruff: noqa: E402 - the sys.path fix below must run before the imports
import sys
from pathlib import Path

# Run as `python bench/case_service.py`, this file's folder comes first on sys.path and its name would hide
# the case_service package: take the folder off before importing anything of the service.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import asyncio
import importlib.util
import logging
import os
import random
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from types import ModuleType
from typing import NamedTuple

import asyncpg
import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import BaseModel

from case_service.main import create_app
from case_service.settings import Settings
from casebridge_common.testing.tokens import client_credentials_token, demo_client_secret

ROOT = Path(__file__).resolve().parents[1]
ADMIN = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:55432")
ISSUER = os.environ.get("BENCH_OIDC_ISSUER", "http://127.0.0.1:9400")
POOL_SIZE = 5
TARGET_RATIO, TARGET_BY_ID_MS, TARGET_PAGE_MS = 0.6, 20.0, 50.0
# countries of origin a page is filtered by: a common one, a less common one, and one no case has (the page
# must then look at every case of the office that the filter could match)
COUNTRY_FILTERS = ("SN", "SO", "GM")
FILTERS = [  # the list shapes measured: (programme, stage) of a busy, a middling and a rare stage
    ("return_reintegration", "implementation"),
    ("return_reintegration", "assessment"),
    ("resettlement_integration", "integration_support"),
    ("resettlement_integration", "travel_booked"),
]


def _load_synthetic() -> ModuleType:
    """deploy/demo/synthetic.py, the generator `make up` uses too (deploy/ is not a package)."""
    spec = importlib.util.spec_from_file_location("synthetic", ROOT / "deploy" / "demo" / "synthetic.py")
    if spec is None or spec.loader is None:
        raise RuntimeError("deploy/demo/synthetic.py is missing")
    module = importlib.util.module_from_spec(spec)
    sys.modules["synthetic"] = module
    spec.loader.exec_module(module)
    return module


synthetic = _load_synthetic()


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18]


class Level(NamedTuple):
    """One number of requests in flight: each app's best round and the median of the rounds' own ratios."""

    in_flight: int
    bare_rps: float
    case_rps: float
    median_ratio: float


class BareCase(BaseModel):
    beneficiary_id: uuid.UUID
    programme: str


def bare_app(url: str) -> FastAPI:
    """The floor: parse the body, insert one row with asyncpg, answer 201."""
    pools: list[asyncpg.Pool] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pools.append(await asyncpg.create_pool(url, min_size=POOL_SIZE, max_size=POOL_SIZE))
        yield
        await pools[0].close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/bare", status_code=201)
    async def insert(body: BareCase) -> dict[str, str]:
        case_id = uuid.uuid4()
        async with pools[0].acquire() as conn:
            await conn.execute(
                "INSERT INTO bare_cases (id, beneficiary_id, programme, opened_at) VALUES ($1, $2, $3, now())",
                case_id,
                body.beneficiary_id,
                body.programme,
            )
        return {"id": str(case_id)}

    return app


async def throughput(
    client: httpx.AsyncClient, path: str, bodies: Iterator[dict[str, str]], count: int, concurrency: int
) -> float:
    """Requests per second for `count` POSTs, `concurrency` in flight."""
    todo = iter([next(bodies) for _ in range(count)])

    async def lane() -> None:
        for body in todo:
            response = await client.post(path, json=body)
            if response.status_code != 201:
                raise RuntimeError(f"{path}: {response.status_code} {response.text}")

    started = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return count / (time.perf_counter() - started)


async def latencies(run: Callable[[], Awaitable[httpx.Response]], queries: int, budget_s: float) -> list[float]:
    """Up to `queries` timed requests, fewer (at least 20) if they take longer than `budget_s` in all."""
    for _ in range(10):  # warm the pool, the plan cache and the JWKS cache
        (await run()).raise_for_status()
    samples: list[float] = []
    deadline = time.perf_counter() + budget_s
    while len(samples) < queries and (len(samples) < 20 or time.perf_counter() < deadline):
        started = time.perf_counter()
        response = await run()
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return samples


async def migrate(url: str) -> None:
    env = os.environ | {"DATABASE_URL": url.replace("postgresql:", "postgresql+asyncpg:")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "casebridge_common.operations",
        "migrate",
        "--service-dir",
        str(ROOT / "services" / "case-service"),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
    )
    if await process.wait() != 0:
        raise RuntimeError("migrating the scratch database failed")


OFFICES = [synthetic.BERLIN, synthetic.DAKAR, synthetic.ERBIL] + [
    synthetic.Office(f"xx-office-{i}", f"org-{i}", ("worker.a", "worker.b")) for i in range(7)
]


class Filler:
    """Tops the scratch database up to a number of cases, 10 offices, keeping a sample of Berlin's case ids."""

    def __init__(self, url: str, seed: int) -> None:
        self._url = url
        self._caseload = synthetic.Caseload(seed=seed)
        self._rng = random.Random(seed)
        self.total = 0
        self.berlin_ids: list[uuid.UUID] = []

    def _stream(self, count: int) -> Iterator[object]:
        for _ in range(count):
            case = self._caseload.case(office=self._rng.choice(OFFICES))
            if case.office is synthetic.BERLIN and len(self.berlin_ids) < 50_000:
                self.berlin_ids.append(case.case_id)
            yield case

    async def fill_to(self, size: int) -> None:
        if size <= self.total:
            return
        conn = await asyncpg.connect(self._url)
        try:
            started, missing, step = time.perf_counter(), size - self.total, 50_000
            while self.total < size:
                chunk = min(step, size - self.total)
                await synthetic.copy_cases(conn, self._stream(chunk))
                self.total += chunk
                elapsed = time.perf_counter() - started
                done = missing - (size - self.total)
                say(f"  filled {self.total:>9,} cases ({done / elapsed:,.0f}/s, {elapsed:.0f} s)")
            await conn.execute("ANALYZE beneficiaries; ANALYZE cases")
        finally:
            await conn.close()


async def main(
    open_cases: int, concurrencies: list[int], rounds: int, sizes: list[int], queries: int, budget_s: float, seed: int
) -> None:
    logging.disable(logging.INFO)  # a log line per request would be measured too
    database = f"case_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN + "/postgres")
    await admin.execute(f'CREATE DATABASE "{database}"')
    url = f"{ADMIN}/{database}"
    say(f"scratch database {database}")
    try:
        await migrate(url)
        token = client_credentials_token(
            ISSUER,
            "de-berlin-system",
            demo_client_secret("de-berlin-system"),
            resource="urn:casebridge:case-api",
            scope="cases:read cases:write",
        )
        headers = {"Authorization": f"Bearer {token}"}
        settings = Settings(
            database_url=url.replace("postgresql:", "postgresql+asyncpg:"),
            oidc_issuer=ISSUER,
            environment="test",
            database_pool_size=POOL_SIZE,
        )
        filler = Filler(url, seed)
        openings = 2 * len(concurrencies) * rounds * open_cases + 40
        people = list(synthetic.Caseload(seed=seed + 1).cases(openings, office=synthetic.BERLIN))
        conn = await asyncpg.connect(url)
        try:  # beneficiaries registered by Berlin, for the cases to open; and the bare app's table
            await conn.copy_records_to_table(
                "beneficiaries",
                records=[
                    (
                        c.beneficiary_id,
                        c.given_name,
                        c.family_name,
                        c.sex,
                        c.born_on,
                        c.born_on_is_estimated,
                        c.nationality,
                        "de-berlin",
                        "iom-germany",
                        c.opened_at,
                        1,
                        c.country_of_origin,
                        c.country_of_return,
                        c.country_of_resettlement,
                    )
                    for c in people
                ],
                columns=synthetic.BENEFICIARY_COLUMNS,
            )
            # a live table has statistics: without them the planner may find a beneficiary by its office's index
            # and filter the office's people by id instead of using the primary key
            await conn.execute("ANALYZE beneficiaries")
            await conn.execute(
                "CREATE TABLE bare_cases (id uuid PRIMARY KEY, beneficiary_id uuid NOT NULL,"
                " programme varchar(64) NOT NULL, opened_at timestamptz NOT NULL)"
            )
        finally:
            await conn.close()
        bodies = iter({"beneficiary_id": str(c.beneficiary_id), "programme": c.programme} for c in people)

        say(
            f"(a) open-case throughput: {open_cases} requests per round, {rounds} rounds with each of"
            f" {', '.join(map(str, concurrencies))} in flight"
        )
        async with (
            LifespanManager(create_app(settings)) as real,
            LifespanManager(bare_app(url)) as bare,
            httpx.AsyncClient(transport=httpx.ASGITransport(real.app), base_url="http://case", headers=headers) as api,
            httpx.AsyncClient(transport=httpx.ASGITransport(bare.app), base_url="http://bare") as floor,
        ):
            await throughput(api, "/v1/cases", bodies, 20, concurrencies[0])  # warm-up
            await throughput(floor, "/bare", bodies, 20, concurrencies[0])
            levels: list[Level] = []
            for concurrency in concurrencies:
                bare_rps, case_rps = [], []
                for round_ in range(1, rounds + 1):
                    bare_rps.append(await throughput(floor, "/bare", bodies, open_cases, concurrency))
                    case_rps.append(await throughput(api, "/v1/cases", bodies, open_cases, concurrency))
                    say(
                        f"  {concurrency:>3} in flight, round {round_}: bare {bare_rps[-1]:7.1f} req/s"
                        f"   POST /v1/cases {case_rps[-1]:7.1f} req/s   ratio {case_rps[-1] / bare_rps[-1]:.2f}"
                    )
                paired = statistics.median(case / bare for case, bare in zip(case_rps, bare_rps, strict=True))
                levels.append(Level(concurrency, max(bare_rps), max(case_rps), paired))
            for level in levels:
                say(
                    f"  {level.in_flight:>3} in flight: best bare {level.bare_rps:7.1f} req/s, best POST /v1/cases"
                    f" {level.case_rps:7.1f} req/s, ratio {level.case_rps / level.bare_rps:.2f}"
                    f" (median round ratio {level.median_ratio:.2f})"
                )
            bare_peak = max(levels, key=lambda level: level.bare_rps)
            case_peak = max(levels, key=lambda level: level.case_rps)
            ratio = case_peak.case_rps / bare_peak.bare_rps
            say(
                f"  throughput: bare FastAPI + asyncpg insert {bare_peak.bare_rps:7.1f} req/s"
                f" ({bare_peak.in_flight} in flight)\n"
                f"              POST /v1/cases (+ outbox, audit) {case_peak.case_rps:7.1f} req/s"
                f" ({case_peak.in_flight} in flight)"
                f"   ratio {ratio:.2f}  (target >= {TARGET_RATIO})  {'OK' if ratio >= TARGET_RATIO else 'MISSED'}"
            )

            say(f"(b) read latency as de-berlin, {queries} requests per shape and size")
            rng = random.Random(seed)
            results: list[tuple[int, float, float, float, float, float]] = []
            for size in sizes:
                say(f" size {size:,}:")
                await filler.fill_to(size)
                by_id = await latencies(
                    lambda: api.get(f"/v1/cases/{rng.choice(filler.berlin_ids)}"), queries, budget_s
                )

                def page() -> Awaitable[httpx.Response]:
                    programme, stage = rng.choice(FILTERS)
                    return api.get("/v1/cases", params={"programme": programme, "stage": stage, "limit": 50})

                listed = await latencies(page, queries, budget_s)

                def country_page() -> Awaitable[httpx.Response]:
                    country = rng.choice(COUNTRY_FILTERS)
                    return api.get("/v1/cases", params={"country_of_origin": country, "limit": 50})

                by_country = await latencies(country_page, queries, budget_s)
                medians = (statistics.median(by_id), statistics.median(listed))
                results.append((size, medians[0], p95(by_id), medians[1], p95(listed), p95(by_country)))
                say(
                    f"  ({len(by_id)}, {len(listed)} and {len(by_country)} samples)\n"
                    f"  GET /v1/cases/{{id}}           p50 {results[-1][1]:6.2f} ms  p95 {results[-1][2]:6.2f} ms"
                    f"  (target p95 < {TARGET_BY_ID_MS:.0f} ms)\n"
                    f"  GET /v1/cases?programme&stage p50 {results[-1][3]:6.2f} ms  p95 {results[-1][4]:6.2f} ms"
                    f"  (target p95 < {TARGET_PAGE_MS:.0f} ms)\n"
                    f"  GET /v1/cases?country_of_origin p50 {statistics.median(by_country):6.2f} ms"
                    f"  p95 {results[-1][5]:6.2f} ms  (target p95 < {TARGET_PAGE_MS:.0f} ms)"
                )
        say("summary")
        say(
            f"  open case: {case_peak.case_rps:.1f} req/s vs bare {bare_peak.bare_rps:.1f} req/s = {ratio:.2f}"
            f" (target >= {TARGET_RATIO}); per level "
            + ", ".join(f"{level.in_flight} in flight {level.case_rps / level.bare_rps:.2f}" for level in levels)
        )
        for size, _, id95, _, page95, country95 in results:
            say(
                f"  {size:>9,} cases: by id p95 {id95:6.2f} ms ({'OK' if id95 < TARGET_BY_ID_MS else 'MISSED'})"
                f"   filtered page p95 {page95:6.2f} ms ({'OK' if page95 < TARGET_PAGE_MS else 'MISSED'})"
                f"   by country p95 {country95:6.2f} ms ({'OK' if country95 < TARGET_PAGE_MS else 'MISSED'})"
            )
        if len(results) > 1:
            first, last = results[0], results[-1]
            say(
                f"  growth {first[0]:,} -> {last[0]:,}: by id p95 x{last[2] / first[2]:.2f},"
                f" filtered page p95 x{last[4] / first[4]:.2f}, by country p95 x{last[5] / first[5]:.2f}"
            )
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()
        say(f"dropped {database}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--open-cases", type=int, default=400, help="POSTs per round and app")
    parser.add_argument("--concurrency", default="4,8,16", help="comma-separated requests in flight, each measured")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds of each app")
    parser.add_argument("--sizes", default="10000,1000000", help="comma-separated case counts, ascending")
    parser.add_argument("--queries", type=int, default=200, help="requests per read shape and size")
    parser.add_argument("--budget-s", type=float, default=60.0, help="time cap per read shape and size")
    parser.add_argument("--seed", type=int, default=2026)
    arguments = parser.parse_args()
    asyncio.run(
        main(
            arguments.open_cases,
            [int(c) for c in arguments.concurrency.split(",")],
            arguments.rounds,
            sorted(int(s) for s in arguments.sizes.split(",")),
            arguments.queries,
            arguments.budget_s,
            arguments.seed,
        )
    )

"""Directory search p95 over 50,000 services (target: under 50 ms), beside a baseline from the same run.

`python bench/referral_directory_search.py [--services 50000] [--queries 300]` against the local PostgreSQL
(`BENCH_POSTGRES_URL`, default postgresql://postgres@127.0.0.1:55432). It creates a scratch database, migrates
it with referral-service's Alembic history, fills it, measures, and drops it again.

Baseline: a primary-key lookup of one service through the same repository and connection pool, i.e. the
floor of one round trip. Measured: the search endpoint's query shapes (category + country + language +
capacity; age and vulnerability eligibility; distance from a point within 25 km), each followed by the
locations lookup the endpoint does.
"""

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from casebridge_common.db import create_engine, session_factory
from casebridge_common.events.contracts.referral import ServiceCategory
from referral_service.repositories import ServiceSearch
from referral_service.unit_of_work import ReferralUnitOfWork

ROOT = Path(__file__).resolve().parents[1]
ADMIN = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:55432")
CITIES = {  # (country, admin area, latitude, longitude)
    "dakar": ("SN", "Dakar", 14.7167, -17.4677),
    "thies": ("SN", "Thiès", 14.7910, -16.9359),
    "saint-louis": ("SN", "Saint-Louis", 16.0326, -16.4818),
    "berlin": ("DE", "Berlin", 52.5200, 13.4050),
    "hamburg": ("DE", "Hamburg", 53.5511, 9.9937),
    "erbil": ("IQ", "Erbil", 36.1911, 44.0092),
    "lagos": ("NG", "Lagos", 6.5244, 3.3792),
    "accra": ("GH", "Greater Accra", 5.6037, -0.1870),
}
LANGUAGES = ["fr", "wo", "en", "de", "ar", "ku", "yo", "ha", "tw", "fa"]
GROUPS = ["victims_of_trafficking", "persons_with_disabilities", "survivors_of_violence", "children"]


async def _fill(url: str, services: int, rng: random.Random) -> None:
    conn = await asyncpg.connect(url)
    try:
        organisations = [
            (f"org-{i}", f"Provider {i}", "service_provider", rng.choice(list(CITIES.values()))[0])
            for i in range(services // 10)
        ]
        await conn.copy_records_to_table(
            "organisations", records=organisations, columns=["id", "name", "kind", "country"]
        )
        locations: list[tuple[object, ...]] = []
        service_rows: list[tuple[object, ...]] = []
        links: list[tuple[str, str]] = []
        now = datetime.now(UTC)
        for i in range(services):
            city = rng.choice(list(CITIES.values()))
            organisation = organisations[i // 10]
            location_id = f"loc-{i}"
            locations.append(
                (
                    location_id,
                    organisation[0],
                    f"Site {i}",
                    "physical",
                    city[0],
                    city[1],
                    city[2] + rng.uniform(-0.5, 0.5),
                    city[3] + rng.uniform(-0.5, 0.5),
                )
            )
            minimum_age = rng.choice([None, None, 16, 18])
            service_rows.append(
                (
                    f"svc-{i}",
                    organisation[0],
                    f"Service {i}",
                    "",
                    rng.choice(list(ServiceCategory)).value,
                    "active",
                    rng.sample(LANGUAGES, rng.randint(1, 3)),
                    minimum_age,
                    rng.choice([None, None, 35, 45, 65]),
                    [],
                    rng.sample(GROUPS, rng.choice([0, 0, 1])),
                    city[0],
                    [city[1]] if rng.random() < 0.7 else [],
                    rng.random() < 0.9,
                    rng.choice([None, 0, 3, 10, 25]),
                    rng.choice([None, 7, 14, 30]),
                    "focal_point",
                    1,
                    now,
                )
            )
            links.append((f"svc-{i}", location_id))
        await conn.copy_records_to_table(
            "locations",
            records=locations,
            columns=[
                "id",
                "organisation_id",
                "name",
                "location_type",
                "country",
                "admin_area",
                "latitude",
                "longitude",
            ],
        )
        await conn.copy_records_to_table(
            "services",
            records=service_rows,
            columns=[
                "id",
                "organisation_id",
                "name",
                "description",
                "category",
                "status",
                "languages",
                "minimum_age",
                "maximum_age",
                "eligible_sexes",
                "target_groups",
                "service_area_country",
                "service_area_admin_areas",
                "open_for_referrals",
                "available_places",
                "waiting_time_days",
                "capacity_source",
                "version",
                "updated_at",
            ],
        )
        await conn.copy_records_to_table("service_at_locations", records=links, columns=["service_id", "location_id"])
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18]


async def _measure(run: Callable[[], Awaitable[object]], queries: int) -> list[float]:
    for _ in range(10):  # warm the pool and the plan cache
        await run()
    samples = []
    for _ in range(queries):
        started = time.perf_counter()
        await run()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _random_search(rng: random.Random) -> ServiceSearch:
    country, area, latitude, longitude = rng.choice(list(CITIES.values()))
    shape = rng.randrange(3)
    if shape == 0:
        return ServiceSearch(
            category=rng.choice(list(ServiceCategory)),
            country=country,
            language=rng.choice(LANGUAGES),
            accepting_referrals=True,
        )
    if shape == 1:
        return ServiceSearch(
            country=country,
            area=area,
            age=rng.randint(14, 60),
            vulnerability=rng.choice(GROUPS),
            accepting_referrals=True,
        )
    return ServiceSearch(
        category=rng.choice(list(ServiceCategory)), latitude=latitude, longitude=longitude, radius_km=25
    )


async def main(services: int, queries: int) -> None:
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
        rng = random.Random(42)
        await _fill(url, services, rng)
        engine = create_engine(url.replace("postgresql:", "postgresql+asyncpg:"), pool_size=2)
        sessions = session_factory(engine)

        async def lookup() -> object:
            async with ReferralUnitOfWork(sessions) as uow:
                return await uow.directory.service(f"svc-{rng.randrange(services)}")

        async def search() -> object:
            async with ReferralUnitOfWork(sessions) as uow:
                rows = await uow.directory.search_services(_random_search(rng), after=None, limit=50)
                return await uow.directory.locations_of([s.id for s, _ in rows])

        baseline = await _measure(lookup, queries)
        measured = await _measure(search, queries)
        sys.stdout.write(
            f"directory search over {services} services, {queries} queries\n"
            f"  baseline (primary-key lookup)  p50 {statistics.median(baseline):6.2f} ms"
            f"  p95 {_p95(baseline):6.2f} ms\n"
            f"  search (filters + distance)    p50 {statistics.median(measured):6.2f} ms"
            f"  p95 {_p95(measured):6.2f} ms"
            f"  (target p95 < 50 ms)\n"
        )
    finally:
        if engine is not None:
            await engine.dispose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=300)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.services, arguments.queries))

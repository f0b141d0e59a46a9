"""pytest plugin (loaded with ``-p casebridge_common.testing.plugin``): real PostgreSQL, Kafka and OIDC provider.

Addresses come from the environment that ``make test`` exports. A missing or unreachable server makes the
fixture fail, never skip, so a run cannot go green without the real servers. Isolation: migrations run once
into a template database per run; tests get a rolled-back transaction or a private clone; Kafka topics get a
unique prefix per test.
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from casebridge_common.kafka import Topics, ensure_topics, load_topic_specs
from casebridge_common.migrations import upgrade
from casebridge_common.testing.tokens import client_credentials_token, demo_client_secret

REPO_ROOT = Path(__file__).resolve().parents[4]
TOPICS_FILE = REPO_ROOT / "deploy" / "kafka" / "topics.yaml"
RESOURCES = {
    "case-api": "urn:casebridge:case-api",
    "referral-api": "urn:casebridge:referral-api",
    "scoring-api": "urn:casebridge:scoring-api",
    "notification-api": "urn:casebridge:notification-api",
}


def _required_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run the tests with `make test`, which starts the local servers", pytrace=False)
    return value


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """postgresql://user@host:port (no database), e.g. postgresql://postgres@127.0.0.1:55432."""
    url = _required_env("TEST_POSTGRES_URL").rstrip("/")

    async def ping() -> None:
        conn = await asyncpg.connect(url + "/postgres", timeout=5)
        await conn.close()

    try:
        asyncio.run(ping())
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"PostgreSQL at {url} is unreachable: {exc!r}", pytrace=False)
    return url


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    return _required_env("TEST_KAFKA_BOOTSTRAP")


@pytest.fixture(scope="session")
def oidc_issuer() -> str:
    return _required_env("TEST_OIDC_ISSUER")


@pytest.fixture(scope="session")
def service_dir() -> Path:
    """Overridden by each service's conftest: the folder holding its alembic.ini."""
    pytest.fail("this suite needs a `service_dir` fixture naming the service whose migrations to run")


def _async_url(admin_url: str, database: str) -> str:
    return admin_url.replace("postgresql://", "postgresql+asyncpg://", 1) + "/" + database


async def _admin(admin_url: str, sql: str) -> None:
    conn = await asyncpg.connect(admin_url + "/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def template_database(postgres_admin_url: str, service_dir: Path) -> Iterator[str]:
    """A database migrated to head once per run. No test connects to it: it is only cloned."""
    name = f"cbt_{service_dir.name.replace('-', '_')}_{uuid.uuid4().hex[:8]}_tpl"
    asyncio.run(_admin(postgres_admin_url, f'CREATE DATABASE "{name}"'))
    upgrade(service_dir, _async_url(postgres_admin_url, name))
    yield name
    asyncio.run(_admin(postgres_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class DatabaseFactory:
    """Private clones of the migrated template (CREATE DATABASE … TEMPLATE takes milliseconds)."""

    def __init__(self, admin_url: str, template: str) -> None:
        self._admin_url, self._template = admin_url, template
        self.created: list[str] = []

    async def create(self) -> str:
        name = f"{self._template.removesuffix('_tpl')}_{uuid.uuid4().hex[:8]}"
        await _admin(self._admin_url, f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"')
        self.created.append(name)
        return _async_url(self._admin_url, name)

    async def drop_all(self) -> None:
        for name in self.created:
            await _admin(self._admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()


@pytest.fixture(scope="session")
async def databases(postgres_admin_url: str, template_database: str) -> AsyncIterator[DatabaseFactory]:
    factory = DatabaseFactory(postgres_admin_url, template_database)
    yield factory
    await factory.drop_all()


@pytest.fixture(scope="session")
async def test_db_url(databases: DatabaseFactory) -> str:
    """One clone shared by the rollback-per-test suites."""
    return await databases.create()


@pytest.fixture
async def fresh_database(databases: DatabaseFactory) -> str:
    """A private clone for tests whose commits must be seen by other connections (workers, relays)."""
    return await databases.create()


@pytest.fixture
async def sessions(test_db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions inside one outer transaction that is rolled back: nothing the test wrote survives."""
    engine = create_async_engine(test_db_url, poolclass=NullPool)
    async with engine.connect() as conn:
        outer = await conn.begin()
        yield async_sessionmaker(
            conn, class_=AsyncSession, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        await outer.rollback()
    await engine.dispose()


@pytest.fixture
async def committed_sessions(fresh_database: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a private clone whose commits are real (for code that opens its own transactions)."""
    engine = create_async_engine(fresh_database, poolclass=NullPool)
    yield async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    await engine.dispose()


@pytest.fixture
async def kafka_topics(kafka_bootstrap: str) -> Topics:
    """Every topic of topics.yaml, created under a prefix unique to this test."""
    topics = Topics(prefix=f"t{uuid.uuid4().hex[:10]}.")
    await ensure_topics(kafka_bootstrap, load_topic_specs(TOPICS_FILE), topics)
    return topics


TokenFor = Callable[..., str]


@pytest.fixture(scope="session")
def token(oidc_issuer: str) -> TokenFor:
    """`token("de-berlin-system", "case-api", "cases:read cases:write")`: a real client-credentials token."""
    cache: dict[tuple[str, str, str], str] = {}

    def issue(client_id: str, audience: str, scope: str) -> str:
        key = (client_id, audience, scope)
        if key not in cache:
            cache[key] = client_credentials_token(
                oidc_issuer, client_id, demo_client_secret(client_id), resource=RESOURCES[audience], scope=scope
            )
        return cache[key]

    return issue


def bearer(raw_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw_token}"}


def assert_models_match_migrations(service_dir: Path, database_url: str) -> None:
    """`alembic check`: a model change without a migration fails the suite."""
    from alembic import command

    from casebridge_common.migrations import alembic_config

    command.check(alembic_config(service_dir, database_url))

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime

import httpx
import pytest
from asgi_lifespan import LifespanManager

from case_service.main import create_app
from case_service.settings import Settings
from case_service.unit_of_work import CaseUnitOfWork
from case_service.worker import JOBS
from casebridge_common.db import create_engine, session_factory

PublishProfiles = Callable[[datetime], Awaitable[int]]


@pytest.fixture(scope="session")
async def client(test_db_url: str, oidc_issuer: str) -> AsyncIterator[httpx.AsyncClient]:
    """The case API in-process, on the shared test clone, validating real tokens from the local IdP."""
    settings = Settings(database_url=test_db_url, oidc_issuer=oidc_issuer, environment="test")  # type: ignore[arg-type]
    async with LifespanManager(create_app(settings)) as manager:
        transport = httpx.ASGITransport(manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://case-service") as client:
            yield client


@pytest.fixture
def publish_profiles(test_db_url: str, oidc_issuer: str) -> PublishProfiles:
    """One run of the worker's weekly monitoring publication at the given time, in its own transaction."""
    settings = Settings(database_url=test_db_url, oidc_issuer=oidc_issuer, environment="test")  # type: ignore[arg-type]

    async def publish(now: datetime) -> int:
        engine = create_engine(test_db_url, pool_size=1)
        try:
            async with CaseUnitOfWork(session_factory(engine)) as uow:
                published = await JOBS["monitoring-publication"](uow, settings, now)
                await uow.commit()
            return published
        finally:
            await engine.dispose()

    return publish

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from case_service.main import create_app
from case_service.settings import Settings


@pytest.fixture(scope="session")
async def client(test_db_url: str, oidc_issuer: str) -> AsyncIterator[httpx.AsyncClient]:
    """The case API in-process, on the shared test clone, validating real tokens from the local IdP."""
    settings = Settings(database_url=test_db_url, oidc_issuer=oidc_issuer, environment="test")  # type: ignore[arg-type]
    async with LifespanManager(create_app(settings)) as manager:
        transport = httpx.ASGITransport(manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://case-service") as client:
            yield client

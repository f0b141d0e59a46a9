from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from notification_service.main import create_app
from notification_service.settings import Settings


@pytest.fixture
async def seeded(fresh_database: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Real commits into the private database the API under test reads."""
    engine = create_async_engine(fresh_database, poolclass=NullPool)
    yield async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    await engine.dispose()


@pytest.fixture
async def client(fresh_database: str, oidc_issuer: str) -> AsyncIterator[httpx.AsyncClient]:
    """The notification API in-process on a private clone, validating real tokens from the local IdP."""
    settings = Settings(database_url=fresh_database, oidc_issuer=oidc_issuer, environment="test")  # type: ignore[arg-type]
    async with LifespanManager(create_app(settings)) as manager:
        transport = httpx.ASGITransport(manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://notification-service") as http:
            yield http

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from casebridge_common.db import session_factory
from casebridge_common.events.contracts.case import CaseOpened, Programme
from casebridge_common.events.envelope import CloudEvent
from scoring_service.consumers import handlers
from scoring_service.main import create_app
from scoring_service.settings import Settings
from scoring_service.unit_of_work import ScoringUnitOfWork

OpenCase = Callable[..., Awaitable[uuid.UUID]]


@pytest.fixture(scope="session")
async def client(test_db_url: str, oidc_issuer: str) -> AsyncIterator[httpx.AsyncClient]:
    """The scoring API in-process, on the shared test clone, validating real tokens from the local IdP."""
    settings = Settings(database_url=test_db_url, oidc_issuer=oidc_issuer, environment="test")  # type: ignore[arg-type]
    async with LifespanManager(create_app(settings)) as manager:
        transport = httpx.ASGITransport(manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://scoring-service") as client:
            yield client


@pytest.fixture
async def open_case(test_db_url: str) -> AsyncIterator[OpenCase]:
    """Announce a case as case-service would: through the `case.opened` handler, committed."""
    engine = create_async_engine(test_db_url, poolclass=NullPool)

    async def announce(office: str = "de-berlin", programme: Programme = Programme.RETURN_REINTEGRATION) -> uuid.UUID:
        opened = CaseOpened(
            case_id=uuid.uuid4(),
            case_version=1,
            beneficiary_id=uuid.uuid4(),
            programme=programme,
            owner_office_id=office,
            owner_organisation_id="iom-germany",
            opened_at=datetime.now(UTC),
        )
        event = CloudEvent.wrap(opened, source="/casebridge/case-service")
        await handlers(baseline_window_days=30)[CaseOpened.type](event, ScoringUnitOfWork(session_factory(engine)))
        return opened.case_id

    yield announce
    await engine.dispose()

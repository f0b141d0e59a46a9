"""Start-up work shared by the API and the worker entrypoints."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casebridge_common.db import utc_now
from scoring_service.service_layer.instruments import load_shipped
from scoring_service.unit_of_work import ScoringUnitOfWork


async def load_shipped_instruments(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    """Idempotent: the API and the worker both run it at start; the first to commit wins, the other adds nothing."""
    async with ScoringUnitOfWork(sessions) as uow:
        loaded = await load_shipped(uow, now=utc_now())
        await uow.commit()
    return loaded

"""The unit of work: undo by default, and what it loaded stays readable after it ends."""

import uuid

from mechanism_probes import Effect, TestUnitOfWork
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col


async def test_leaving_without_commit_undoes_everything(sessions: async_sessionmaker[AsyncSession]) -> None:
    subject = str(uuid.uuid4())
    async with TestUnitOfWork(sessions) as uow:
        uow.session.add(Effect(subject=subject, n=1))
        await uow.session.flush()
    async with TestUnitOfWork(sessions) as uow:
        assert (await uow.session.scalars(select(Effect).where(col(Effect.subject) == subject))).all() == []


async def test_objects_read_in_a_unit_of_work_stay_readable_after_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    subject = str(uuid.uuid4())
    async with TestUnitOfWork(sessions) as uow:
        uow.session.add(Effect(subject=subject, n=7))
        await uow.commit()
    async with TestUnitOfWork(sessions) as uow:
        loaded = (await uow.session.scalars(select(Effect).where(col(Effect.subject) == subject))).one()
    assert (loaded.subject, loaded.n) == (subject, 7)

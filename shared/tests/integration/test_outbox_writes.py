"""Outbox writes on real PostgreSQL: emitted events wait in the unit of work and go in at commit, in emit order,
in one statement; a rolled-back savepoint or unit of work takes its events with it."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mechanism_probes import Effect, SomethingHappened, TestUnitOfWork
from sqlalchemy import event, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from casebridge_common.outbox import OutboxMessage

Sessions = async_sessionmaker[AsyncSession]


def happened(n: int) -> SomethingHappened:
    return SomethingHappened(thing_id=uuid.uuid4(), n=n)


async def written(sessions: Sessions, ids: list[str]) -> list[int]:
    """The `n` of the events with these ids that are in the table, in relay (`seq`) order."""
    async with sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(col(OutboxMessage.event_id).in_([uuid.UUID(i) for i in ids]))
            .order_by(col(OutboxMessage.seq))
        )
        return [int(row.event["data"]["n"]) for row in rows]


@contextmanager
def outbox_inserts(uow: TestUnitOfWork) -> Iterator[list[int]]:
    """The number of parameter sets of each INSERT into outbox_messages the unit of work's connection runs."""
    inserts: list[int] = []

    def count(conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.startswith("INSERT INTO outbox_messages"):
            inserts.append(len(parameters) if many else 1)

    engine = uow.session.sync_session.get_bind().engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield inserts
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def test_events_go_in_at_commit_in_emit_order_in_one_statement(sessions: Sessions) -> None:
    async with TestUnitOfWork(sessions) as uow:
        with outbox_inserts(uow) as inserts:
            ids = [uow.outbox.emit(happened(n)) for n in (3, 1, 2)]
            uow.session.add(Effect(subject="emitted", n=3))
            await uow.session.flush()
            assert await written(sessions, ids) == []  # nothing before the commit
            await uow.commit()
    assert inserts == [3]
    assert await written(sessions, ids) == [3, 1, 2]


async def test_a_rolled_back_savepoint_takes_its_events_with_it(sessions: Sessions) -> None:
    async with TestUnitOfWork(sessions) as uow:
        ids = [uow.outbox.emit(happened(1))]
        kept = await uow.session.begin_nested()
        ids.append(uow.outbox.emit(happened(2)))
        await kept.commit()
        dropped = await uow.session.begin_nested()
        ids.append(uow.outbox.emit(happened(3)))
        inner = await uow.session.begin_nested()
        ids.append(uow.outbox.emit(happened(4)))
        await inner.commit()
        await dropped.rollback()
        ids.append(uow.outbox.emit(happened(5)))
        await uow.commit()
    assert await written(sessions, ids) == [1, 2, 5]


async def test_an_uncommitted_unit_of_work_writes_no_event(sessions: Sessions) -> None:
    async with TestUnitOfWork(sessions) as uow:
        ids = [uow.outbox.emit(happened(1))]
    assert await written(sessions, ids) == []

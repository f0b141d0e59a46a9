"""Processed-message records: a consumer claims an event id in the same transaction as its effects."""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Column, DateTime, func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from casebridge_common.db import UnitOfWork
from casebridge_common.events.envelope import CloudEvent, Event
from casebridge_common.kafka import Handler

E = TypeVar("E", bound=Event)
U = TypeVar("U", bound=UnitOfWork)


class ProcessedMessage(SQLModel, table=True):
    __tablename__ = "processed_messages"

    consumer: str = Field(primary_key=True)
    event_id: str = Field(primary_key=True)
    processed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()))


class Inbox:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, *, consumer: str, event_id: str) -> bool:
        """True the first time; False for a redelivery whose first delivery's effects are committed.

        A concurrent claim of the same id waits on the primary key, so two deliveries never both win.
        """
        inserted = await self._session.scalar(
            insert(ProcessedMessage)
            .values(consumer=consumer, event_id=event_id)
            .on_conflict_do_nothing()
            .returning(col(ProcessedMessage.event_id))
        )
        return inserted is not None


def exactly_once(consumer: str, contract: type[E], apply: Callable[[U, E], Awaitable[object]]) -> Handler[U]:
    """The Kafka handler that reads an event's data as ``contract`` and runs ``apply`` at most once per event id
    for ``consumer``: the claim and the effects commit in one transaction, and a redelivery whose first
    delivery committed does nothing. Data that does not fit the contract raises, so the message is retried and
    then dead-lettered."""

    async def handle(event: CloudEvent, uow: U) -> None:
        data = contract.model_validate(event.data)
        async with uow:
            if not await uow.inbox.claim(consumer=consumer, event_id=event.id):
                return  # a redelivery: the first delivery's effects are committed
            await apply(uow, data)
            await uow.commit()

    return handle

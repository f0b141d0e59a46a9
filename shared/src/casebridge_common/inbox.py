"""Processed-message records: a consumer claims an event id in the same transaction as its effects."""

from datetime import datetime

from sqlalchemy import Column, DateTime, func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col


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

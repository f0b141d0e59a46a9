"""Inbox items: what an office is told. Texts hold no personal data; they point at the case by id."""

from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import Column, DateTime, Index
from sqlmodel import Field, SQLModel

from casebridge_common.db import enum_type
from casebridge_common.events.contracts.case import CaseOpened, Programme


class InboxKind(StrEnum):
    CASE_OPENED = "case_opened"


class InboxItem(SQLModel, table=True):
    __tablename__ = "inbox_items"
    __table_args__ = (Index("ix_inbox_items_office_created", "office_id", "created_at", "id"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    office_id: str
    kind: InboxKind = Field(sa_type=enum_type(InboxKind))
    title: str
    case_id: UUID | None = Field(default=None, index=True)
    source_event_id: str
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    read_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


_PROGRAMME_LABEL = {
    Programme.RETURN_REINTEGRATION: "return & reintegration",
    Programme.RESETTLEMENT_INTEGRATION: "resettlement & integration",
}


def item_for_case_opened(opened: CaseOpened, *, event_id: str, now: datetime) -> InboxItem:
    return InboxItem(
        office_id=opened.owner_office_id,
        kind=InboxKind.CASE_OPENED,
        title=f"New {_PROGRAMME_LABEL[opened.programme]} case opened",
        case_id=opened.case_id,
        source_event_id=event_id,
        created_at=now,
    )

"""A stand-in consumer effect for the library's own tests (services have real ones)."""

from typing import ClassVar
from uuid import UUID, uuid4

from sqlmodel import Field, SQLModel

from casebridge_common.db import UnitOfWork
from casebridge_common.events.envelope import Event


class Effect(SQLModel, table=True):
    __tablename__ = "test_effects"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    subject: str
    n: int


class SomethingHappened(Event):
    type: ClassVar[str] = "casebridge.test.happened.v1"
    topic: ClassVar[str] = "casebridge.case.events.v1"
    thing_id: UUID
    n: int

    def aggregate_id(self) -> UUID:
        return self.thing_id


class TestUnitOfWork(UnitOfWork):
    __test__ = False
    source = "/casebridge/test"

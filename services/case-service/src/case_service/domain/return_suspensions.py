"""Suspended returns (reintegration.md R46): an organisation may suspend returns to a country whose security or
operational situation threatens the safety of returning migrants or of its staff (non-refoulement; handbook
`004_65e42d343e6f26c8.txt:L360, L380`). While the suspension is in force, none of its offices opens a voluntary
return there (the person's country of return, else of origin: repositories/openings.py looks it up in the
opening's statement): the opening of a return case in pre-departure counselling fails its guard. A forced or
spontaneous return, which the origin office opens on arrival, has already happened and is assisted as ever."""

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import Column, DateTime, Index, text
from sqlmodel import Field, SQLModel

from case_service.domain.errors import GuardFailed
from case_service.domain.stages import Stage

GUARD = "returns_not_suspended"


class ReturnSuspension(SQLModel, table=True):
    """Returns of one organisation to one country, suspended from `suspended_at` until lifted."""

    __tablename__ = "return_suspensions"
    __table_args__ = (
        # one suspension in force per organisation and country; the opening's guard looks it up by both
        Index(
            "uq_return_suspensions_in_force",
            "organisation_id",
            "country",
            unique=True,
            postgresql_where=text("lifted_at IS NULL"),
        ),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    organisation_id: str = Field(max_length=200)
    country: str = Field(max_length=2)  # ISO 3166-1 alpha-2
    reason: str
    suspended_by: str
    suspended_by_office_id: str
    suspended_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    lifted_by: str | None = None
    lifted_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


def guards_opening(stage: Stage) -> bool:
    """Whether a case opening in `stage` is a new return that a suspension blocks: a return case opened in
    pre-departure counselling, whose return is still to be organised."""
    return stage is Stage.PRE_DEPARTURE_COUNSELLING


def returns_suspended(country: str, suspension_id: UUID) -> GuardFailed:
    """The opening's refusal: 409 `stage-guard-failed` naming the guard, the country and the suspension."""
    return GuardFailed(
        f"Returns to {country} are suspended: no new return case can be opened there until the suspension is lifted",
        guard=GUARD,
        to_stage=Stage.PRE_DEPARTURE_COUNSELLING,
        country=country,
        suspension_id=suspension_id,
    )

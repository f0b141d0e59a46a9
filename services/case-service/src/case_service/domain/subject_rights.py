"""Data-subject rights (data-protection.md §8): erasure on request under the retention rules (§3.6), legal holds.

The retention rule CaseBridge applies before an erasure (R-R1, R-R2; the periods per jurisdiction are an open
question, §9.2, so only the holds the spec states are enforced):

1. every case of the person has ended (closed, transitioned, archived, withdrawn, cancelled, not returned or
   approved, deceased); a case that is open, on hold or in post-closure monitoring is still being worked;
2. a child's case ended at least :data:`CHILD_MONITORING_PERIOD` ago (R-R2: monitoring continues ≥ 3 months
   after a child's case closes, the "closed-monitoring" retention state);
3. no legal hold is in place (R-R1's legal-hold override).

Anything else is erased on request. Erasure never deletes rows: the key is destroyed (crypto-shredding), the
identity fields are anonymised and the audit trail, which holds ids only, survives.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import Column, DateTime, Index, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from case_service.domain.models import Beneficiary
from case_service.domain.stages import Stage

CHILD_MONITORING_PERIOD = timedelta(days=91)  # three months (R-R2), counted generously
ERASED_NAME = "erased"

ENDED_STAGES: frozenset[Stage] = frozenset(
    {
        Stage.CLOSED,
        Stage.ARCHIVED,
        Stage.NOT_RETURNED,
        Stage.NOT_APPROVED,
        Stage.TRANSITIONED,
        Stage.CANCELLED,
        Stage.WITHDRAWN,
        Stage.DECEASED,
    }
)


class HoldReason(StrEnum):
    CASE_OPEN = "case-open"
    CHILD_POST_CLOSURE_MONITORING = "child-post-closure-monitoring"
    LEGAL_HOLD = "legal-hold"


@dataclass(frozen=True, slots=True)
class CaseRetention:
    case_id: UUID
    stage: Stage
    ended_at: datetime | None
    child: bool


@dataclass(frozen=True, slots=True)
class RetentionHold:
    reason: HoldReason
    case_id: UUID | None = None
    hold_id: UUID | None = None
    until: datetime | None = None


def retention_holds(cases: list[CaseRetention], legal_holds: list[UUID], *, now: datetime) -> list[RetentionHold]:
    """Every reason the person's records must still be kept; empty when erasure may go ahead."""
    holds: list[RetentionHold] = [RetentionHold(HoldReason.LEGAL_HOLD, hold_id=h) for h in legal_holds]
    for case in cases:
        if case.stage not in ENDED_STAGES:
            holds.append(RetentionHold(HoldReason.CASE_OPEN, case_id=case.case_id))
        elif case.child and case.ended_at is not None and now < case.ended_at + CHILD_MONITORING_PERIOD:
            holds.append(
                RetentionHold(
                    HoldReason.CHILD_POST_CLOSURE_MONITORING,
                    case_id=case.case_id,
                    until=case.ended_at + CHILD_MONITORING_PERIOD,
                )
            )
    return holds


def anonymise(beneficiary: Beneficiary) -> None:
    """Replace the direct identifiers (C2) in place: names (in every script), contacts, identity documents, the
    current location, and the date of birth down to its year (ages still count in aggregates). Sex, nationality,
    languages and countries stay: on their own they do not identify anyone."""
    beneficiary.given_name = ERASED_NAME
    beneficiary.family_name = ERASED_NAME
    beneficiary.born_on = date(beneficiary.born_on.year, 1, 1)
    beneficiary.born_on_is_estimated = True
    beneficiary.names, beneficiary.contacts, beneficiary.documents = [], [], []
    beneficiary.current_location, beneficiary.name_key = None, ""
    beneficiary.version += 1


class BeneficiaryErasure(SQLModel, table=True):
    """The record that a person's data was erased on request; the erasure is done once, a repeat returns this."""

    __tablename__ = "beneficiary_erasures"

    beneficiary_id: UUID = Field(primary_key=True, foreign_key="beneficiaries.id")
    reason: str
    request_reference: str
    requested_by: str
    requested_by_office_id: str
    case_ids: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    erased_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class LegalHold(SQLModel, table=True):
    """Records that must be kept whatever the person asks (litigation, an authority's order): blocks erasure."""

    __tablename__ = "legal_holds"
    __table_args__ = (
        Index("ix_legal_holds_active_beneficiary", "beneficiary_id", postgresql_where=text("released_at IS NULL")),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    beneficiary_id: UUID = Field(foreign_key="beneficiaries.id")
    reason: str
    authority_reference: str | None = None
    placed_by: str
    placed_by_office_id: str
    placed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    released_by: str | None = None
    released_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))

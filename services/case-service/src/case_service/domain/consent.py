"""Consent records (data-protection.md §2): who consented, how, to what, for how long; immutable terms.

A record's terms never change. Renewing or narrowing writes a new record that ``supersedes`` the old one, and the
old one moves to ``renewed``/``narrowed`` history; withdrawal and expiry only move the status. So the history of a
beneficiary's consents is the list of their records, oldest first.
"""

from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import Column, DateTime, Index
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from casebridge_common.access import ConsentFacts, ConsentStatus, GivenBy
from casebridge_common.db import enum_type
from casebridge_common.events.contracts.consent import ScopeTerms


class ConsentMethod(StrEnum):
    WRITTEN = "written"
    VERBAL_IN_PERSON = "verbal_in_person"
    VERBAL_PHONE = "verbal_phone"
    REMOTE_VIDEO = "remote_video"
    ELECTRONIC_SIGNATURE = "electronic_signature"


class ConsentRecord(SQLModel, table=True):
    __tablename__ = "consent_records"
    __table_args__ = (Index("ix_consent_records_beneficiary_recorded", "beneficiary_id", "recorded_at", "id"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    beneficiary_id: UUID = Field(foreign_key="beneficiaries.id")
    status: ConsentStatus = Field(sa_type=enum_type(ConsentStatus))
    given_by: GivenBy = Field(sa_type=enum_type(GivenBy))
    given_by_name: str | None = None  # the parent or guardian, for a minor
    capacity_assessed_by: str | None = None  # required when given_by is not self (R-C5)
    child_assent: bool = False
    child_views: str | None = None  # the child's own views, in their words (K10)
    method: ConsentMethod = Field(sa_type=enum_type(ConsentMethod))
    interpreter: str | None = None
    notice_version: str  # the plain-language notice shown (R-C3)
    evidence_ref: str | None = None  # signed form, audio note
    # list of ScopeTerms documents: categories by purposes by recipients
    scopes: list[dict[str, object]] = Field(sa_column=Column(JSONB, nullable=False))
    valid_from: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    valid_until: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    supersedes: UUID | None = Field(default=None, foreign_key="consent_records.id")
    recorded_by: str
    recorded_by_office_id: str
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    withdrawn_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    withdrawal_channel: str | None = None
    version: int = 1

    def terms(self) -> list[ScopeTerms]:
        return [ScopeTerms.model_validate(s) for s in self.scopes]

    def to_facts(self) -> ConsentFacts:
        """What the access policy reads of this record."""
        return ConsentFacts(
            consent_id=self.id,
            status=self.status,
            given_by=self.given_by,
            scopes=tuple(t.to_policy() for t in self.terms()),
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            child_assent=self.child_assent,
        )

"""The relations that let an office other than the owner read a case: explicit shares, active referrals and
time-boxed break-glass grants (data-protection.md §4, §5). What such a reader then sees is bounded by consent,
which :func:`casebridge_common.access.decide` checks; these rows only say who is related to the case."""

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import Column, DateTime, Index
from sqlmodel import Field, SQLModel

from casebridge_common.access import BreakGlassFacts, ReferralFacts, ShareFacts, ShareMode
from casebridge_common.db import enum_type


class CaseShare(SQLModel, table=True):
    """The owner office shared the case with another office; revoking keeps the row as history."""

    __tablename__ = "case_shares"
    __table_args__ = (Index("ix_case_shares_office_case", "office_id", "case_id"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    case_id: UUID = Field(foreign_key="cases.id", index=True)
    office_id: str
    mode: ShareMode = Field(sa_type=enum_type(ShareMode))
    granted_by: str
    granted_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))

    def active(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    def to_facts(self) -> ShareFacts:
        return ShareFacts(share_id=self.id, office_id=self.office_id, mode=self.mode, expires_at=self.expires_at)


class CaseReferralLink(SQLModel, table=True):
    """A referral of the case, as referral-service announced it: active from sent until it is closed."""

    __tablename__ = "case_referral_links"
    __table_args__ = (Index("ix_case_referral_links_case_active", "case_id", "active"),)

    referral_id: UUID = Field(primary_key=True)
    case_id: UUID = Field(foreign_key="cases.id")
    destination_organisation_id: str
    destination_office_id: str | None = None
    active: bool
    # the referral_version of the event that set this row: older, redelivered or reordered events are ignored
    referral_version: int
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))

    def to_facts(self) -> ReferralFacts:
        return ReferralFacts(
            referral_id=self.referral_id,
            destination_organisation_id=self.destination_organisation_id,
            destination_office_id=self.destination_office_id,
        )


class BreakGlassGrant(SQLModel, table=True):
    """An emergency read outside the access rules (data-protection.md §5): justified, time-boxed, held by one
    person of one office only."""

    __tablename__ = "break_glass_grants"
    __table_args__ = (Index("ix_break_glass_grants_subject_case", "subject", "case_id"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    case_id: UUID = Field(foreign_key="cases.id")
    subject: str
    office_id: str | None = None
    justification: str
    granted_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))

    def to_facts(self) -> BreakGlassFacts:
        return BreakGlassFacts(
            grant_id=self.id, subject=self.subject, office_id=self.office_id, expires_at=self.expires_at
        )

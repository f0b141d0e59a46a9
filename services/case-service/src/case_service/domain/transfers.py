"""Cross-border case transfer (referrals.md §8, data-protection.md §2.4 item 5 and §2.5): the host-country office
proposes to hand a case over to an origin-country office, which previews it and accepts or declines by a deadline.

A transfer is one row that moves through a small state machine; every transition is a method here that checks
its guard and bumps ``version``. What the recipient previewed is stored as the ``manifest``: the categories that
leave with the case, those withheld and why, and the consents that authorised the handover. The manifest shown is
the manifest sent (§2.5): acceptance hands over exactly the previewed categories, never more, and refuses when the
consent no longer covers all of them.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Column, DateTime, Index, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from case_service.domain.errors import (
    ConsentRequired,
    InvalidTransferDeadline,
    NotTransferRecipient,
    NotTransferSender,
    TransferNotPending,
    TransferToOwnOffice,
)
from casebridge_common.access import CaseFacts, DataCategory, Decision, Party, Projection, Purpose, Reason
from casebridge_common.db import enum_type
from casebridge_common.events.contracts.case import TransferOutcome

HANDOVER_PURPOSE = Purpose.CROSS_BORDER_HANDOVER
CONSENT_WITHDRAWN_REASON = "consent_withdrawn"
# a deadline further out than this is a typing mistake rather than a plan (referrals.md §8.2 timers: 10 days)
LONGEST_RESPONSE_WINDOW = timedelta(days=90)


class TransferStatus(StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class TransferRole(StrEnum):
    """Which side of a transfer the caller's office is on."""

    INCOMING = "incoming"  # the proposed recipient
    OUTGOING = "outgoing"  # the sender


_ENDED_AS: dict[TransferOutcome, TransferStatus] = {
    TransferOutcome.DECLINED: TransferStatus.DECLINED,
    TransferOutcome.EXPIRED: TransferStatus.EXPIRED,
    TransferOutcome.CANCELLED: TransferStatus.CANCELLED,
}


class WithheldCategory(BaseModel):
    model_config = ConfigDict(frozen=True)

    category: DataCategory
    reason: str  # the policy's stable reason (casebridge_common.access.Reason)


class TransferManifest(BaseModel):
    """What leaves with the case: the consent dry-run's answer at the moment of the proposal."""

    model_config = ConfigDict(frozen=True)

    purpose: Purpose = HANDOVER_PURPOSE
    categories: list[DataCategory]
    withheld: list[WithheldCategory]
    consent_ids: list[UUID]

    @classmethod
    def of(cls, dry_run: Projection) -> "TransferManifest":
        return cls(
            categories=sorted(dry_run.allowed),
            withheld=[WithheldCategory(category=c, reason=d.reason) for c, d in sorted(dry_run.withheld.items())],
            consent_ids=sorted({d.basis for d in dry_run.allowed.values() if isinstance(d.basis, UUID)}, key=str),
        )

    def not_covered(self, decisions: dict[DataCategory, Decision]) -> list[DataCategory]:
        """The previewed categories a fresh consent check no longer allows."""
        return [c for c in self.categories if c not in decisions or not decisions[c].allowed]


class CaseTransfer(SQLModel, table=True):
    __tablename__ = "case_transfers"
    __table_args__ = (
        # at most one pending transfer per case, also under concurrent proposals
        Index(
            "uq_case_transfers_pending_case",
            "case_id",
            unique=True,
            postgresql_where=text("status = 'proposed'"),
        ),
        Index("ix_case_transfers_to_office_proposed", "to_office_id", "proposed_at", "id"),
        Index("ix_case_transfers_from_office_proposed", "from_office_id", "proposed_at", "id"),
        Index("ix_case_transfers_pending_respond_by", "respond_by", postgresql_where=text("status = 'proposed'")),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    case_id: UUID = Field(foreign_key="cases.id", index=True)
    from_office_id: str
    from_organisation_id: str | None = None
    to_office_id: str
    to_organisation_id: str
    to_country: str = Field(max_length=2)
    status: TransferStatus = Field(sa_type=enum_type(TransferStatus))
    proposed_by: str
    proposed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    remind_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    reminded_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    respond_by: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    decided_by: str | None = None
    decided_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    reason: str | None = None
    # a TransferManifest document
    manifest: dict[str, object] = Field(sa_column=Column(JSONB, nullable=False))
    version: int = 1

    @property
    def recipient(self) -> Party:
        return Party(office_id=self.to_office_id, organisation_id=self.to_organisation_id, country=self.to_country)

    def terms(self) -> TransferManifest:
        return TransferManifest.model_validate(self.manifest)

    @property
    def pending(self) -> bool:
        return self.status is TransferStatus.PROPOSED

    def overdue(self, now: datetime) -> bool:
        return self.pending and self.respond_by <= now

    def reminder_due(self, now: datetime) -> bool:
        return self.pending and self.reminded_at is None and self.remind_at <= now < self.respond_by

    def _still_pending(self, now: datetime) -> None:
        if not self.pending:
            raise TransferNotPending(transfer_id=self.id, status=self.status)
        if self.overdue(now):  # the deadline passed, even if the job has not yet recorded the expiry
            raise TransferNotPending(
                "The response deadline has passed.", transfer_id=self.id, status=TransferStatus.EXPIRED
            )

    def _end(self, status: TransferStatus, *, by: str, reason: str | None, now: datetime) -> None:
        self.status, self.decided_by, self.decided_at, self.reason = status, by, now, reason
        self.version += 1

    def accept(self, *, office_id: str, by: str, now: datetime, still_covered: dict[DataCategory, Decision]) -> None:
        """The recipient takes the case. ``still_covered`` is a fresh consent check of the manifest's categories:
        the handover goes ahead only if every previewed category is still consented to."""
        if office_id != self.to_office_id:
            raise NotTransferRecipient(transfer_id=self.id)
        self._still_pending(now)
        if lost := self.terms().not_covered(still_covered):
            raise ConsentRequired(
                "The consent no longer covers every category that was previewed; the transfer will be cancelled.",
                categories=lost,
                purpose=HANDOVER_PURPOSE,
            )
        self._end(TransferStatus.ACCEPTED, by=by, reason=None, now=now)

    def decline(self, *, office_id: str, by: str, reason: str, now: datetime) -> None:
        if office_id != self.to_office_id:
            raise NotTransferRecipient(transfer_id=self.id)
        self._still_pending(now)
        self._end(TransferStatus.DECLINED, by=by, reason=reason, now=now)

    def cancel(self, *, office_id: str, by: str, reason: str | None, now: datetime) -> None:
        """The sender withdraws the proposal before the recipient answered."""
        if office_id != self.from_office_id:
            raise NotTransferSender(transfer_id=self.id)
        if not self.pending:
            raise TransferNotPending(transfer_id=self.id, status=self.status)
        self._end(TransferStatus.CANCELLED, by=by, reason=reason, now=now)

    def end_unanswered(self, outcome: TransferOutcome, *, by: str, reason: str | None, now: datetime) -> None:
        """Expiry at the deadline or cancellation for a lost consent: the job's transitions, no office involved."""
        if not self.pending:
            raise TransferNotPending(transfer_id=self.id, status=self.status)
        self._end(_ENDED_AS[outcome], by=by, reason=reason, now=now)

    def mark_reminded(self, now: datetime) -> None:
        if not self.reminder_due(now):
            raise TransferNotPending("No reminder is due for this transfer.", transfer_id=self.id)
        self.reminded_at = now
        self.version += 1


def reminder_time(*, now: datetime, respond_by: datetime, remind_after: timedelta) -> datetime:
    """The reminder is due ``remind_after`` after the proposal, or half-way to a deadline that comes sooner."""
    at = now + remind_after
    return at if at < respond_by else now + (respond_by - now) / 2


def new_transfer(
    *,
    case_id: UUID,
    from_office_id: str,
    from_organisation_id: str | None,
    recipient: Party,
    proposed_by: str,
    dry_run: Projection,
    now: datetime,
    respond_by: datetime,
    remind_after: timedelta,
) -> CaseTransfer:
    """A new pending transfer, if the recipient is another office, the deadline sensible and the consent covers at
    least one category for the handover to that recipient (R-C1)."""
    if recipient.office_id is None or recipient.organisation_id is None or recipient.country is None:
        raise ValueError("a transfer recipient names its office, organisation and country")
    if recipient.office_id == from_office_id:
        raise TransferToOwnOffice(pointer="#/to_office_id")
    if not now < respond_by <= now + LONGEST_RESPONSE_WINDOW:
        raise InvalidTransferDeadline(pointer="#/respond_by", latest=now + LONGEST_RESPONSE_WINDOW)
    manifest = TransferManifest.of(dry_run)
    if not manifest.categories:
        raise ConsentRequired(
            "No category of this case is consented to for a cross-border handover to this recipient.",
            purpose=HANDOVER_PURPOSE,
            withheld=[w.model_dump(mode="json") for w in manifest.withheld],
        )
    return CaseTransfer(
        case_id=case_id,
        from_office_id=from_office_id,
        from_organisation_id=from_organisation_id,
        to_office_id=recipient.office_id,
        to_organisation_id=recipient.organisation_id,
        to_country=recipient.country,
        status=TransferStatus.PROPOSED,
        proposed_by=proposed_by,
        proposed_at=now,
        remind_at=reminder_time(now=now, respond_by=respond_by, remind_after=remind_after),
        respond_by=respond_by,
        manifest=manifest.model_dump(mode="json"),
    )


def held_back(transfers: Iterable[CaseTransfer], office_id: str) -> dict[DataCategory, Decision]:
    """Categories the current owner ``office_id`` did not receive when the case was handed over to it: the consent
    did not cover them for the handover, so they stay on the case but the new owner may not read them. Each maps to
    the refusal, with the transfer as its basis."""
    latest = max(
        (t for t in transfers if t.status is TransferStatus.ACCEPTED and t.to_office_id == office_id),
        key=lambda t: t.decided_at or t.proposed_at,
        default=None,
    )
    if latest is None:
        return {}
    handed_over = set(latest.terms().categories)
    refusal = Decision(False, Reason.CONSENT_NOT_COVERING, latest.id)
    return {c: refusal for c in DataCategory if c not in handed_over}


def hold_back(projection: Projection, held: dict[DataCategory, Decision]) -> Projection:
    """The owner's projection without the categories a handover did not bring: they move to ``withheld``."""
    if not held:
        return projection
    return Projection(
        visible=projection.visible,
        allowed={c: d for c, d in projection.allowed.items() if c not in held},
        withheld=projection.withheld | {c: held[c] for c in projection.allowed if c in held},
    )


def owner_projection(
    projection: Projection, case: CaseFacts, *, reader_office_id: str | None, transfers: Iterable[CaseTransfer]
) -> Projection:
    """A reader's projection of a case, held back from what a handover did not bring when the reader owns it."""
    if reader_office_id is None or reader_office_id != case.owner_office_id:
        return projection
    return hold_back(projection, held_back(transfers, case.owner_office_id))

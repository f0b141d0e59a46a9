"""Consent records (data-protection.md §2): who consented, how, to what, for how long; immutable terms.

A record's terms never change. Renewing or narrowing writes a new record that ``supersedes`` the old one: a
renewal is a ``renewed`` record with the same scopes and a new validity, and the record it replaces moves to
``expired`` (only ``given`` and ``renewed`` authorise, so two records never both carry the same permission); a
narrowing is a ``given`` record with a subset of the terms, and the old one moves to ``narrowed``. Withdrawal and
expiry only move the status. So the history of a beneficiary's consents is the list of their records, oldest first.

The lifecycle rules below are pure: they take the clock as an argument and raise the problems of
``domain/errors.py``.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import Column, DateTime, Index, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from case_service.domain.errors import (
    CapacityAssessmentRequired,
    ConsentNarrowingUnchanged,
    ConsentNarrowingWidens,
    ConsentNotActive,
    ConsentNotRequested,
    ForbiddenPurpose,
    GuardianConsentRequired,
    InvalidValidityPeriod,
)
from casebridge_common.access import (
    ACTIVE_CONSENT,
    FORBIDDEN_PURPOSES,
    GUARDIANS,
    ConsentFacts,
    ConsentStatus,
    DataCategory,
    GivenBy,
    Purpose,
)
from casebridge_common.db import enum_type
from casebridge_common.events.contracts.consent import ScopeTerms, WithdrawalKind


class ConsentMethod(StrEnum):
    WRITTEN = "written"
    VERBAL_IN_PERSON = "verbal_in_person"
    VERBAL_PHONE = "verbal_phone"
    REMOTE_VIDEO = "remote_video"
    ELECTRONIC_SIGNATURE = "electronic_signature"


class WithdrawalChannel(StrEnum):
    """How the person withdrew (data-protection.md §2.1): withdrawing must be as easy as consenting (R-C3)."""

    STAFF = "staff"
    SELF_SERVICE = "self_service"
    PHONE = "phone"
    WRITTEN = "written"


class WithdrawalStatus(StrEnum):
    """Where a withdrawal stands with the holders of copies (the compliance view, §2.4.4)."""

    PENDING = "pending"  # holders still to acknowledge, before the deadline
    OVERDUE = "overdue"  # holders still to acknowledge, after the deadline
    COMPLETE = "complete"  # every expected holder acknowledged


class HolderState(StrEnum):
    ACKNOWLEDGED = "acknowledged"
    PENDING = "pending"
    OVERDUE = "overdue"


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


class ConsentWithdrawal(SQLModel, table=True):
    """A withdrawal, narrowing or expiry that holders of copies must act on (data-protection.md §2.4)."""

    __tablename__ = "consent_withdrawals"
    __table_args__ = (Index("ix_consent_withdrawals_office_withdrawn", "owner_office_id", "withdrawn_at", "id"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    consent_id: UUID = Field(foreign_key="consent_records.id", index=True)
    beneficiary_id: UUID = Field(foreign_key="beneficiaries.id")
    owner_office_id: str
    kind: WithdrawalKind = Field(sa_type=enum_type(WithdrawalKind))
    superseded_by: UUID | None = Field(default=None, foreign_key="consent_records.id")
    withdrawn_scopes: list[dict[str, object]] = Field(sa_column=Column(JSONB, nullable=False))
    expected_holders: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    withdrawn_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    acknowledge_by: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class WithdrawalAcknowledgement(SQLModel, table=True):
    """One holder's receipt that it purged or redacted its copies after a withdrawal."""

    __tablename__ = "withdrawal_acknowledgements"
    __table_args__ = (UniqueConstraint("withdrawal_id", "holder"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    withdrawal_id: UUID = Field(foreign_key="consent_withdrawals.id")
    holder: str
    purged: int
    redacted: int
    acknowledged_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class OverdueWithdrawalReceipt(SQLModel, table=True):
    """A holder whose receipt was missing at the deadline, reported to the data controller (§2.4.4). The primary
    key reports a holder once per withdrawal, whichever worker gets there first."""

    __tablename__ = "overdue_withdrawal_receipts"

    withdrawal_id: UUID = Field(foreign_key="consent_withdrawals.id", primary_key=True)
    holder: str = Field(primary_key=True)
    acknowledge_by: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    reported_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class ConsentReceiptRecord(SQLModel, table=True):
    """The consent receipt issued when a record reached a state (given, renewed, narrowed, withdrawn, expired),
    kept as issued: the beneficiary's copy must stay verifiable after the record moves on."""

    __tablename__ = "consent_receipts"
    __table_args__ = (UniqueConstraint("consent_id", "consent_version"),)

    id: UUID = Field(primary_key=True)  # the receipt id the document carries
    consent_id: UUID = Field(foreign_key="consent_records.id")
    consent_version: int
    issued_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    document: dict[str, object] = Field(sa_column=Column(JSONB, nullable=False))


# --- terms as sets -------------------------------------------------------------------------------------------------
# A scope permits every (category, purpose, recipient) triple of its lists; comparing terms compares those sets, so
# one scope may be narrowed into several and several into one.
_RECIPIENT_KINDS = ("offices", "organisations", "organisation_types", "countries")
Recipient = tuple[str, str]  # (kind, name), e.g. ("organisations", "cfp-dakar")


def _recipients(scope: ScopeTerms) -> frozenset[Recipient]:
    return frozenset((kind, name) for kind in _RECIPIENT_KINDS for name in getattr(scope, kind))


def _triples(scopes: Iterable[ScopeTerms]) -> set[tuple[DataCategory, Purpose, Recipient]]:
    return {
        (category, purpose, recipient)
        for scope in scopes
        for category in scope.data_categories
        for purpose in scope.purposes
        for recipient in _recipients(scope)
    }


def _scope(
    categories: Iterable[DataCategory], purposes: Iterable[Purpose], recipients: Iterable[Recipient]
) -> ScopeTerms:
    named = sorted(recipients)

    def of(kind: str) -> list[str]:
        return [name for k, name in named if k == kind]

    return ScopeTerms(
        data_categories=list(categories),
        purposes=list(purposes),
        offices=of("offices"),
        organisations=of("organisations"),
        organisation_types=of("organisation_types"),
        countries=of("countries"),
    )


def allows_at_most(new: Sequence[ScopeTerms], old: Sequence[ScopeTerms]) -> bool:
    """Whether `new` permits nothing that `old` does not."""
    return _triples(new) <= _triples(old)


def withdrawn_scopes(old: Sequence[ScopeTerms], new: Sequence[ScopeTerms]) -> list[ScopeTerms]:
    """What holders must purge or redact when `new` replaces `old`: per old scope, its categories that no new scope
    with the same purposes and recipients still covers. Conservative: a scope whose purposes or recipients were cut
    is reported with all its categories, for its own purposes and recipients."""
    gone: list[ScopeTerms] = []
    for scope in old:
        purposes, recipients = frozenset(scope.purposes), _recipients(scope)
        kept = {
            category
            for other in new
            if frozenset(other.purposes) == purposes and _recipients(other) == recipients
            for category in other.data_categories
        }
        if lost := [c for c in scope.data_categories if c not in kept]:
            gone.append(scope.model_copy(update={"data_categories": lost}))
    return gone


def _minus(scope: ScopeTerms, cut: ScopeTerms) -> list[ScopeTerms]:
    """`scope` without the triples of `cut`, exactly, as at most three scopes."""
    categories = [c for c in scope.data_categories if c in cut.data_categories]
    purposes = [p for p in scope.purposes if p in cut.purposes]
    recipients = _recipients(scope) & _recipients(cut)
    if not (categories and purposes and recipients):
        return [scope]
    pieces: list[ScopeTerms] = []
    if other_categories := [c for c in scope.data_categories if c not in cut.data_categories]:
        pieces.append(_scope(other_categories, scope.purposes, _recipients(scope)))
    if other_purposes := [p for p in scope.purposes if p not in cut.purposes]:
        pieces.append(_scope(categories, other_purposes, _recipients(scope)))
    if other_recipients := _recipients(scope) - _recipients(cut):
        pieces.append(_scope(categories, purposes, other_recipients))
    return pieces


def remaining_after(terms: Sequence[ScopeTerms], withdrawn: Sequence[ScopeTerms]) -> list[ScopeTerms]:
    """The terms left after a partial withdrawal of `withdrawn`."""
    remaining = list(terms)
    for cut in withdrawn:
        remaining = [piece for scope in remaining for piece in _minus(scope, cut)]
    return remaining


# --- lifecycle -----------------------------------------------------------------------------------------------------


def check_record(record: ConsentRecord, *, subject_is_minor: bool) -> None:
    """The rules every new record meets (data-protection.md §2.1, R-C5, R-K1, K10, K14)."""
    for index, scope in enumerate(record.terms()):
        if forbidden := FORBIDDEN_PURPOSES.intersection(scope.purposes):
            raise ForbiddenPurpose(
                f"Consent cannot cover {', '.join(sorted(forbidden))}.", pointer=f"#/scopes/{index}/purposes"
            )
    if record.valid_until is not None and record.valid_until <= record.valid_from:
        raise InvalidValidityPeriod(pointer="#/valid_until")
    if subject_is_minor:
        if record.given_by not in GUARDIANS:
            raise GuardianConsentRequired("A minor's consent is given by a parent or guardian.", pointer="#/given_by")
        if not record.child_assent:
            raise GuardianConsentRequired("The child's own assent must be recorded.", pointer="#/child_assent")
        if not record.child_views:
            raise GuardianConsentRequired("The child's own views must be recorded.", pointer="#/child_views")
    if record.given_by is not GivenBy.SELF and not record.capacity_assessed_by:
        raise CapacityAssessmentRequired(pointer="#/capacity_assessed_by")


def _require_in_force(record: ConsentRecord, now: datetime) -> None:
    if not record.to_facts().in_force(now):
        raise ConsentNotActive(status=record.status)


def _successor(
    old: ConsentRecord,
    *,
    status: ConsentStatus,
    scopes: Sequence[ScopeTerms],
    valid_until: datetime | None,
    method: ConsentMethod | None,
    notice_version: str | None,
    evidence_ref: str | None,
    recorded_by: str,
    office_id: str,
    now: datetime,
) -> ConsentRecord:
    return ConsentRecord(
        beneficiary_id=old.beneficiary_id,
        status=status,
        given_by=old.given_by,
        given_by_name=old.given_by_name,
        capacity_assessed_by=old.capacity_assessed_by,
        child_assent=old.child_assent,
        child_views=old.child_views,
        method=method or old.method,
        interpreter=old.interpreter,
        notice_version=notice_version or old.notice_version,
        evidence_ref=evidence_ref or old.evidence_ref,
        scopes=[scope.model_dump(mode="json") for scope in scopes],
        valid_from=now,
        valid_until=valid_until,
        supersedes=old.id,
        recorded_by=recorded_by,
        recorded_by_office_id=office_id,
        recorded_at=now,
    )


def renew(
    old: ConsentRecord,
    *,
    valid_until: datetime | None,
    method: ConsentMethod | None,
    notice_version: str | None,
    evidence_ref: str | None,
    subject_is_minor: bool,
    recorded_by: str,
    office_id: str,
    now: datetime,
) -> ConsentRecord:
    """The same terms for a new period, as a new `renewed` record; the old one is `expired` from now on."""
    _require_in_force(old, now)
    renewal = _successor(
        old,
        status=ConsentStatus.RENEWED,
        scopes=old.terms(),
        valid_until=valid_until,
        method=method,
        notice_version=notice_version,
        evidence_ref=evidence_ref,
        recorded_by=recorded_by,
        office_id=office_id,
        now=now,
    )
    check_record(renewal, subject_is_minor=subject_is_minor)
    old.status = ConsentStatus.EXPIRED
    old.version += 1
    return renewal


def narrow(
    old: ConsentRecord,
    scopes: Sequence[ScopeTerms],
    *,
    evidence_ref: str | None,
    subject_is_minor: bool,
    recorded_by: str,
    office_id: str,
    now: datetime,
) -> tuple[ConsentRecord, list[ScopeTerms]]:
    """A new `given` record with terms inside the old ones; the old one is `narrowed`. Returns the new record and
    what it no longer allows (for `consent.withdrawn`, kind `narrowed`)."""
    _require_in_force(old, now)
    terms = old.terms()
    if not allows_at_most(scopes, terms):
        raise ConsentNarrowingWidens(pointer="#/scopes")
    if allows_at_most(terms, scopes):
        raise ConsentNarrowingUnchanged(pointer="#/scopes")
    narrower = _successor(
        old,
        status=ConsentStatus.GIVEN,
        scopes=scopes,
        valid_until=old.valid_until,
        method=None,
        notice_version=None,
        evidence_ref=evidence_ref,
        recorded_by=recorded_by,
        office_id=office_id,
        now=now,
    )
    check_record(narrower, subject_is_minor=subject_is_minor)
    old.status = ConsentStatus.NARROWED
    old.version += 1
    return narrower, withdrawn_scopes(terms, scopes)


def answer(
    record: ConsentRecord, *, given: bool, method: ConsentMethod | None, evidence_ref: str | None, now: datetime
) -> None:
    """The person's answer to a requested consent: `given` (it authorises from now on) or `refused` (it never
    does). The terms stay as requested; only a requested record can be answered, and only once."""
    if record.status is not ConsentStatus.REQUESTED:
        raise ConsentNotRequested(status=record.status)
    record.status = ConsentStatus.GIVEN if given else ConsentStatus.REFUSED
    record.method = method or record.method
    record.evidence_ref = evidence_ref or record.evidence_ref
    record.valid_from = max(record.valid_from, now)
    record.version += 1


def withdraw(record: ConsentRecord, *, channel: WithdrawalChannel, now: datetime) -> list[ScopeTerms]:
    """Takes effect at once for all future processing and sharing (§2.4.1). Returns the scopes withdrawn."""
    _require_in_force(record, now)
    record.status = ConsentStatus.WITHDRAWN
    record.withdrawn_at = now
    record.withdrawal_channel = channel.value
    record.version += 1
    return record.terms()


def has_lapsed(record: ConsentRecord, now: datetime) -> bool:
    return record.status in ACTIVE_CONSENT and record.valid_until is not None and record.valid_until <= now


def expire(record: ConsentRecord, *, now: datetime) -> list[ScopeTerms]:
    """A record whose validity ended stops authorising. Returns the scopes that lapsed."""
    if not has_lapsed(record, now):
        raise ConsentNotActive(status=record.status)
    record.status = ConsentStatus.EXPIRED
    record.version += 1
    return record.terms()


# --- acknowledgements ----------------------------------------------------------------------------------------------


def holder_state(acknowledged: bool, *, acknowledge_by: datetime, now: datetime) -> HolderState:
    if acknowledged:
        return HolderState.ACKNOWLEDGED
    return HolderState.OVERDUE if acknowledge_by <= now else HolderState.PENDING


def overdue_holders(
    expected: Iterable[str],
    acknowledged: Iterable[str],
    reported: Iterable[str],
    *,
    acknowledge_by: datetime,
    now: datetime,
) -> list[str]:
    """The expected holders to report to the data controller now: past the deadline, no receipt, not reported
    before. A receipt that comes after the report does not undo it; one from an unexpected holder is no answer."""
    if acknowledge_by > now:
        return []
    done = set(acknowledged) | set(reported)
    return [holder for holder in dict.fromkeys(expected) if holder not in done]


def withdrawal_status(
    expected: Iterable[str], acknowledged: Iterable[str], *, acknowledge_by: datetime, now: datetime
) -> WithdrawalStatus:
    """Complete once every expected holder acknowledged; an acknowledgement from anyone else counts for nothing."""
    if set(expected) <= set(acknowledged):
        return WithdrawalStatus.COMPLETE
    return WithdrawalStatus.OVERDUE if acknowledge_by <= now else WithdrawalStatus.PENDING

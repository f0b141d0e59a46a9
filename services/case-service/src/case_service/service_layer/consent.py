"""Consent use cases: give, renew, narrow, withdraw, expire; receipts; the withdrawals holders must act on."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from case_service.domain import consent as rules
from case_service.domain.consent import (
    ConsentReceiptRecord,
    ConsentRecord,
    ConsentWithdrawal,
    OverdueWithdrawalReceipt,
    WithdrawalAcknowledgement,
    WithdrawalStatus,
)
from case_service.domain.errors import (
    BeneficiaryNotFound,
    ConsentNarrowingWidens,
    ConsentNotFound,
    ConsentReceiptNotFound,
    WithdrawalNotFound,
)
from case_service.domain.models import Beneficiary, is_minor
from case_service.schemas.consent import (
    AnswerConsentRequest,
    ConsentAnswer,
    ConsentReceipt,
    ConsentScope,
    GiveConsent,
    HolderAcknowledgement,
    NarrowConsent,
    ReceiptLinks,
    ReceiptParty,
    ReceiptRecipients,
    ReceiptSubject,
    ReceiptValidity,
    RenewConsent,
    WithdrawalRead,
    WithdrawConsent,
)
from case_service.service_layer import monitoring
from case_service.settings import Settings
from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.access import ConsentStatus
from casebridge_common.audit import AuditAction
from casebridge_common.auth import Principal
from casebridge_common.events.contracts.consent import (
    ConsentGiven,
    ConsentWithdrawalAcknowledged,
    ConsentWithdrawalReceiptOverdue,
    ConsentWithdrawn,
    ScopeTerms,
    WithdrawalKind,
)
from casebridge_common.http import require_if_match

RECEIPT_CONTEXT = ["https://w3id.org/dpv", "https://casebridge.example/ns/consent-receipt/v1"]
RECEIPT_VERSION = "casebridge-27560-1"
_RECEIPT_NAMESPACE = uuid.UUID("3c1f4f0e-6a43-4f8e-9d4b-3e0b7c2a9d15")
# who the audit names when the worker, not a person, changes a consent
CONSENT_EXPIRY_JOB = Principal(
    subject="case-service/consent-expiry",
    client_id="case-service",
    organisation_id=None,
    office_id=None,
    country=None,
    scopes=frozenset(),
    roles=frozenset(),
)


@dataclass(frozen=True, slots=True)
class WithdrawalPolicy:
    """Who must acknowledge a withdrawal, and by when (data-protection.md §2.4.4)."""

    acknowledge_within: timedelta
    holders: tuple[str, ...]

    @classmethod
    def of(cls, settings: Settings) -> "WithdrawalPolicy":
        return cls(timedelta(hours=settings.withdrawal_acknowledgement_hours), settings.withdrawal_holders)


def _categories(record: ConsentRecord) -> list[str]:
    return sorted({str(c) for scope in record.terms() for c in scope.data_categories})


async def _visible_beneficiary(uow: CaseUnitOfWork, beneficiary_id: UUID, actor: Principal) -> Beneficiary:
    assert actor.office_id is not None  # noqa: S101 - the router requires an office claim
    beneficiary = await uow.beneficiaries.get_visible(beneficiary_id, office_id=actor.office_id)
    if beneficiary is None:
        raise BeneficiaryNotFound(beneficiary_id=beneficiary_id)
    return beneficiary


async def _visible_consent(
    uow: CaseUnitOfWork, consent_id: UUID, actor: Principal, *, for_update: bool = False
) -> tuple[ConsentRecord, Beneficiary]:
    """The record and its beneficiary, if that beneficiary is visible to the caller: otherwise 404, as if absent."""
    assert actor.office_id is not None  # noqa: S101
    record = await (uow.consents.get_for_update(consent_id) if for_update else uow.consents.get(consent_id))
    beneficiary = (
        None
        if record is None
        else await uow.beneficiaries.get_visible(record.beneficiary_id, office_id=actor.office_id)
    )
    if record is None or beneficiary is None:
        raise ConsentNotFound(consent_id=consent_id)
    return record, beneficiary


def _minor(beneficiary: Beneficiary, now: datetime) -> bool:
    return is_minor(beneficiary.born_on, now.date())


async def _emit_given(uow: CaseUnitOfWork, record: ConsentRecord, beneficiary: Beneficiary, *, now: datetime) -> None:
    # locked before the cases are listed: a case opening meanwhile is then listed, or opens after this commits
    await uow.beneficiaries.lock_for_reprofiling(record.beneficiary_id)
    uow.outbox.emit(
        ConsentGiven(
            consent_id=record.id,
            beneficiary_id=record.beneficiary_id,
            case_ids=await uow.consents.case_ids_of(record.beneficiary_id),
            owner_office_id=beneficiary.registering_office_id,
            status=record.status,
            renewed=record.status is ConsentStatus.RENEWED,
            supersedes=record.supersedes,
            scopes=record.terms(),
            valid_from=record.valid_from,
            valid_until=record.valid_until,
            given_by=record.given_by,
            child_assent=record.child_assent,
        )
    )
    await monitoring.emit_profiles_of(uow, record.beneficiary_id, now=now)


async def _track_withdrawal(
    uow: CaseUnitOfWork,
    record: ConsentRecord,
    *,
    owner_office_id: str,
    kind: WithdrawalKind,
    withdrawn: list[ScopeTerms],
    superseded_by: UUID | None,
    policy: WithdrawalPolicy,
    now: datetime,
) -> ConsentWithdrawal:
    """Record what every holder must now act on, and tell them (`consent.withdrawn`) in the same transaction."""
    withdrawal = ConsentWithdrawal(
        consent_id=record.id,
        beneficiary_id=record.beneficiary_id,
        owner_office_id=owner_office_id,
        kind=kind,
        superseded_by=superseded_by,
        withdrawn_scopes=[scope.model_dump(mode="json") for scope in withdrawn],
        expected_holders=list(policy.holders),
        withdrawn_at=now,
        acknowledge_by=now + policy.acknowledge_within,
    )
    uow.withdrawals.add(withdrawal)
    await uow.beneficiaries.lock_for_reprofiling(record.beneficiary_id)  # before the cases are listed (see above)
    uow.outbox.emit(
        ConsentWithdrawn(
            consent_id=record.id,
            beneficiary_id=record.beneficiary_id,
            case_ids=await uow.consents.case_ids_of(record.beneficiary_id),
            owner_office_id=owner_office_id,
            withdrawal_id=withdrawal.id,
            kind=kind,
            superseded_by=superseded_by,
            withdrawn_scopes=withdrawn,
            withdrawn_at=now,
            acknowledge_by=withdrawal.acknowledge_by,
        )
    )
    await monitoring.emit_profiles_of(uow, record.beneficiary_id, now=now)
    return withdrawal


def _receipt(
    record: ConsentRecord, beneficiary: Beneficiary, *, superseded_by: UUID | None, issued_at: datetime
) -> ConsentReceipt:
    terms = record.terms()
    return ConsentReceipt(
        context=RECEIPT_CONTEXT,
        receipt_id=uuid.uuid5(_RECEIPT_NAMESPACE, f"{record.id}:{record.version}"),
        receipt_version=RECEIPT_VERSION,
        consent_id=record.id,
        consent_version=record.version,
        status=record.status,
        issued_at=issued_at,
        recorded_at=record.recorded_at,
        controller=ReceiptParty(
            office_id=beneficiary.registering_office_id, organisation_id=beneficiary.registering_organisation_id
        ),
        subject=ReceiptSubject(pseudonymous_id=record.beneficiary_id),
        given_by=record.given_by,
        method=record.method,
        notice_version=record.notice_version,
        evidence_ref=record.evidence_ref,
        child_assent=record.child_assent,
        purposes=sorted({p for t in terms for p in t.purposes}),
        data_categories=sorted({c for t in terms for c in t.data_categories}),
        recipients=ReceiptRecipients(
            offices=sorted({o for t in terms for o in t.offices}),
            organisations=sorted({o for t in terms for o in t.organisations}),
            organisation_types=sorted({o for t in terms for o in t.organisation_types}),
            countries=sorted({c for t in terms for c in t.countries}),
        ),
        scopes=terms,
        validity=ReceiptValidity(valid_from=record.valid_from, valid_until=record.valid_until),
        withdrawn_at=record.withdrawn_at,
        withdrawal_channel=record.withdrawal_channel,
        links=ReceiptLinks(
            supersedes=record.supersedes,
            superseded_by=superseded_by,
            record=f"/v1/consents/{record.id}",
            history=f"/v1/beneficiaries/{record.beneficiary_id}/consents",
        ),
    )


async def _changed(
    uow: CaseUnitOfWork,
    actor: Principal,
    record: ConsentRecord,
    beneficiary: Beneficiary,
    *,
    superseded_by: UUID | None = None,
    now: datetime,
) -> None:
    """Every state a record reaches is audited and gets its receipt (R-C3: the person can be given it)."""
    uow.audit.record(
        actor,
        AuditAction.CONSENT_CHANGE,
        resource_type="consent",
        resource_id=record.id,
        categories=_categories(record),
        basis=record.id,
    )
    receipt = _receipt(record, beneficiary, superseded_by=superseded_by, issued_at=now)
    await uow.consents.add_receipt(
        ConsentReceiptRecord(
            id=receipt.receipt_id,
            consent_id=record.id,
            consent_version=record.version,
            issued_at=now,
            document=receipt.model_dump(mode="json", by_alias=True),
        )
    )


def _new_record(
    beneficiary: Beneficiary, command: GiveConsent, status: ConsentStatus, *, actor: Principal, now: datetime
) -> ConsentRecord:
    assert actor.office_id is not None  # noqa: S101 - the router requires an office claim
    record = ConsentRecord(
        beneficiary_id=beneficiary.id,
        status=status,
        given_by=command.given_by,
        given_by_name=command.given_by_name,
        capacity_assessed_by=command.capacity_assessed_by,
        child_assent=command.child_assent,
        child_views=command.child_views,
        method=command.method,
        interpreter=command.interpreter,
        notice_version=command.notice_version,
        evidence_ref=command.evidence_ref,
        scopes=[scope.model_dump(mode="json") for scope in _terms(list(command.scopes))],
        valid_from=command.valid_from or now,
        valid_until=command.valid_until,
        recorded_by=actor.subject,
        recorded_by_office_id=actor.office_id,
        recorded_at=now,
    )
    rules.check_record(record, subject_is_minor=_minor(beneficiary, now))
    return record


async def give_consent(
    uow: CaseUnitOfWork, beneficiary_id: UUID, command: GiveConsent, *, actor: Principal, now: datetime
) -> ConsentRecord:
    """Record a consent for a beneficiary of the caller's office. Emits `consent.given`."""
    beneficiary = await _visible_beneficiary(uow, beneficiary_id, actor)
    record = _new_record(beneficiary, command, ConsentStatus.GIVEN, actor=actor, now=now)
    uow.consents.add(record)
    await _emit_given(uow, record, beneficiary, now=now)
    await _changed(uow, actor, record, beneficiary, now=now)
    return record


async def request_consent(
    uow: CaseUnitOfWork, beneficiary_id: UUID, command: GiveConsent, *, actor: Principal, now: datetime
) -> ConsentRecord:
    """Record a consent asked for (the notice shown, the terms proposed) that the person has not answered yet:
    it authorises nothing until it is given. No event: nothing may be shared yet."""
    beneficiary = await _visible_beneficiary(uow, beneficiary_id, actor)
    record = _new_record(beneficiary, command, ConsentStatus.REQUESTED, actor=actor, now=now)
    uow.consents.add(record)
    await _changed(uow, actor, record, beneficiary, now=now)
    return record


async def answer_consent(
    uow: CaseUnitOfWork,
    consent_id: UUID,
    command: AnswerConsentRequest,
    *,
    actor: Principal,
    if_match: str | None,
    now: datetime,
) -> ConsentRecord:
    """The person gave or refused a requested consent. A given one emits `consent.given`."""
    record, beneficiary = await _visible_consent(uow, consent_id, actor, for_update=True)
    require_if_match(if_match, record.version)
    rules.answer(
        record,
        given=command.answer is ConsentAnswer.GIVEN,
        method=command.method,
        evidence_ref=command.evidence_ref,
        now=now,
    )
    if record.status is ConsentStatus.GIVEN:
        await _emit_given(uow, record, beneficiary, now=now)
    await _changed(uow, actor, record, beneficiary, now=now)
    return record


async def read_consent(uow: CaseUnitOfWork, consent_id: UUID, *, actor: Principal) -> ConsentRecord:
    record, _ = await _visible_consent(uow, consent_id, actor)
    uow.audit.record(
        actor, AuditAction.VIEW, resource_type="consent", resource_id=consent_id, categories=_categories(record)
    )
    return record


async def list_consents(
    uow: CaseUnitOfWork,
    beneficiary_id: UUID,
    *,
    actor: Principal,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[ConsentRecord]:
    """The beneficiary's records, oldest first: the full version history."""
    await _visible_beneficiary(uow, beneficiary_id, actor)
    rows = await uow.consents.page_of(beneficiary_id, after=after, limit=limit)
    uow.audit.record(
        actor,
        AuditAction.LIST,
        resource_type="consent",
        resource_id=beneficiary_id,
        categories=sorted({c for r in rows for c in _categories(r)}),
    )
    return rows


async def renew_consent(
    uow: CaseUnitOfWork,
    consent_id: UUID,
    command: RenewConsent,
    *,
    actor: Principal,
    if_match: str | None,
    now: datetime,
) -> ConsentRecord:
    """The same terms for a new period. Emits `consent.given` (renewed) for the new record."""
    old, beneficiary = await _visible_consent(uow, consent_id, actor, for_update=True)
    require_if_match(if_match, old.version)
    assert actor.office_id is not None  # noqa: S101
    renewal = rules.renew(
        old,
        valid_until=command.valid_until,
        method=command.method,
        notice_version=command.notice_version,
        evidence_ref=command.evidence_ref,
        subject_is_minor=_minor(beneficiary, now),
        recorded_by=actor.subject,
        office_id=actor.office_id,
        now=now,
    )
    uow.consents.add(renewal)
    await _emit_given(uow, renewal, beneficiary, now=now)
    await _changed(uow, actor, old, beneficiary, superseded_by=renewal.id, now=now)
    await _changed(uow, actor, renewal, beneficiary, now=now)
    return renewal


async def _narrow(
    uow: CaseUnitOfWork,
    old: ConsentRecord,
    beneficiary: Beneficiary,
    scopes: list[ScopeTerms],
    *,
    evidence_ref: str | None,
    actor: Principal,
    policy: WithdrawalPolicy,
    now: datetime,
) -> ConsentRecord:
    assert actor.office_id is not None  # noqa: S101
    narrower, withdrawn = rules.narrow(
        old,
        scopes,
        evidence_ref=evidence_ref,
        subject_is_minor=_minor(beneficiary, now),
        recorded_by=actor.subject,
        office_id=actor.office_id,
        now=now,
    )
    uow.consents.add(narrower)
    # the withdrawal of what was dropped goes first: a holder that excludes on it (scoring-service's analysis)
    # must then see the narrower consent that may let the data back in, not the other way round
    await _track_withdrawal(
        uow,
        old,
        owner_office_id=beneficiary.registering_office_id,
        kind=WithdrawalKind.NARROWED,
        withdrawn=withdrawn,
        superseded_by=narrower.id,
        policy=policy,
        now=now,
    )
    await _emit_given(uow, narrower, beneficiary, now=now)
    await _changed(uow, actor, old, beneficiary, superseded_by=narrower.id, now=now)
    await _changed(uow, actor, narrower, beneficiary, now=now)
    return narrower


def _terms(scopes: list[ConsentScope]) -> list[ScopeTerms]:
    return [ScopeTerms.model_validate(scope.model_dump()) for scope in scopes]


async def narrow_consent(
    uow: CaseUnitOfWork,
    consent_id: UUID,
    command: NarrowConsent,
    *,
    actor: Principal,
    if_match: str | None,
    policy: WithdrawalPolicy,
    now: datetime,
) -> ConsentRecord:
    """Keep only some of the terms, in a new record. Emits `consent.given` for the new record and
    `consent.withdrawn` (kind `narrowed`) with what the old one allowed and the new one does not."""
    old, beneficiary = await _visible_consent(uow, consent_id, actor, for_update=True)
    require_if_match(if_match, old.version)
    return await _narrow(
        uow,
        old,
        beneficiary,
        _terms(list(command.scopes)),
        evidence_ref=command.evidence_ref,
        actor=actor,
        policy=policy,
        now=now,
    )


async def withdraw_consent(
    uow: CaseUnitOfWork,
    consent_id: UUID,
    command: WithdrawConsent,
    *,
    actor: Principal,
    if_match: str | None,
    policy: WithdrawalPolicy,
    now: datetime,
) -> ConsentRecord:
    """Withdraw all of a consent (emits `consent.withdrawn`, kind `withdrawn`) or, with `scopes`, only those
    permissions: a narrowing, answered with the new record. Services and goods are not affected (§2.4.1)."""
    record, beneficiary = await _visible_consent(uow, consent_id, actor, for_update=True)
    require_if_match(if_match, record.version)
    if command.scopes is not None:
        cut = _terms(list(command.scopes))
        if not rules.allows_at_most(cut, record.terms()):
            raise ConsentNarrowingWidens("Only permissions the consent gives can be withdrawn.", pointer="#/scopes")
        remaining = rules.remaining_after(record.terms(), cut)
        if remaining:  # else nothing is left: a full withdrawal
            record.withdrawal_channel = command.channel.value  # how the person asked, kept on the narrowed record
            return await _narrow(
                uow,
                record,
                beneficiary,
                remaining,
                evidence_ref=command.evidence_ref,
                actor=actor,
                policy=policy,
                now=now,
            )
    withdrawn = rules.withdraw(record, channel=command.channel, now=now)
    await _track_withdrawal(
        uow,
        record,
        owner_office_id=beneficiary.registering_office_id,
        kind=WithdrawalKind.WITHDRAWN,
        withdrawn=withdrawn,
        superseded_by=None,
        policy=policy,
        now=now,
    )
    await _changed(uow, actor, record, beneficiary, now=now)
    return record


async def expire_lapsed_consents(
    uow: CaseUnitOfWork, *, policy: WithdrawalPolicy, now: datetime, limit: int = 200
) -> int:
    """The consent-expiry job: records whose validity ended become `expired`, each with `consent.withdrawn`
    (kind `expired`) so that holders purge what it covered. Returns how many expired."""
    lapsed = await uow.consents.lapsed(now, limit=limit)
    for record in lapsed:
        beneficiary = await uow.consents.beneficiary_of(record)
        withdrawn = rules.expire(record, now=now)
        await _track_withdrawal(
            uow,
            record,
            owner_office_id=beneficiary.registering_office_id,
            kind=WithdrawalKind.EXPIRED,
            withdrawn=withdrawn,
            superseded_by=None,
            policy=policy,
            now=now,
        )
        await _changed(uow, CONSENT_EXPIRY_JOB, record, beneficiary, now=now)
    return len(lapsed)


async def consent_receipt(
    uow: CaseUnitOfWork, consent_id: UUID, *, actor: Principal, version: int | None
) -> dict[str, object]:
    """The receipt issued when the record reached that version (the current one by default), as it was issued."""
    record, _ = await _visible_consent(uow, consent_id, actor)
    receipt = await uow.consents.receipt(record.id, version)
    if receipt is None:
        raise ConsentReceiptNotFound(consent_id=consent_id, version=version)
    uow.audit.record(
        actor, AuditAction.EXPORT, resource_type="consent", resource_id=consent_id, categories=_categories(record)
    )
    return receipt.document


async def record_acknowledgement(uow: CaseUnitOfWork, acknowledged: ConsentWithdrawalAcknowledged) -> bool:
    """A holder's receipt, counted once per holder and withdrawal. False when it names no withdrawal of ours (or
    not the consent that withdrawal was about), or the holder acknowledged before."""
    withdrawal = await uow.withdrawals.get(acknowledged.withdrawal_id)
    if (
        withdrawal is None
        or withdrawal.consent_id != acknowledged.consent_id
        or withdrawal.beneficiary_id != acknowledged.beneficiary_id
    ):
        return False
    return await uow.withdrawals.acknowledge(
        WithdrawalAcknowledgement(
            withdrawal_id=withdrawal.id,
            holder=acknowledged.holder,
            purged=acknowledged.purged,
            redacted=acknowledged.redacted,
            acknowledged_at=acknowledged.acknowledged_at,
        )
    )


async def escalate_overdue_receipts(uow: CaseUnitOfWork, *, now: datetime, limit: int) -> int:
    """One batch of withdrawals past their deadline: each expected holder without a receipt is recorded as
    reported and `consent.withdrawal_receipt_overdue` is emitted for it, once per holder (§2.4.4: the data
    controller follows it up). Withdrawals another worker holds are skipped; returns how many holders were
    reported, and the job's next round takes the rest."""
    due = await uow.withdrawals.claim_overdue(now, limit=limit)
    ids = [w.id for w in due]
    # read after the rows are locked: a worker that reported them before us has committed by now
    acknowledged = await uow.withdrawals.acknowledgements_of(ids)
    reported = await uow.withdrawals.overdue_reports_of(ids)
    count = 0
    for withdrawal in due:
        missing = rules.overdue_holders(
            withdrawal.expected_holders,
            [a.holder for a in acknowledged if a.withdrawal_id == withdrawal.id],
            [r.holder for r in reported if r.withdrawal_id == withdrawal.id],
            acknowledge_by=withdrawal.acknowledge_by,
            now=now,
        )
        for holder in missing:
            report = OverdueWithdrawalReceipt(
                withdrawal_id=withdrawal.id, holder=holder, acknowledge_by=withdrawal.acknowledge_by, reported_at=now
            )
            if not await uow.withdrawals.report_overdue(report):
                continue
            uow.outbox.emit(
                ConsentWithdrawalReceiptOverdue(
                    consent_id=withdrawal.consent_id,
                    beneficiary_id=withdrawal.beneficiary_id,
                    case_ids=await uow.consents.case_ids_of(withdrawal.beneficiary_id),
                    owner_office_id=withdrawal.owner_office_id,
                    withdrawal_id=withdrawal.id,
                    holder=holder,
                    acknowledge_by=withdrawal.acknowledge_by,
                    reported_at=now,
                )
            )
            count += 1
    return count


def _withdrawal_view(
    withdrawal: ConsentWithdrawal,
    acknowledgements: list[WithdrawalAcknowledgement],
    reports: list[OverdueWithdrawalReceipt],
    now: datetime,
) -> WithdrawalRead:
    by_holder = {a.holder: a for a in acknowledgements}
    reported_at = {r.holder: r.reported_at for r in reports}
    holders = [
        HolderAcknowledgement(
            holder=holder,
            state=rules.holder_state(holder in by_holder, acknowledge_by=withdrawal.acknowledge_by, now=now),
            expected=holder in withdrawal.expected_holders,
            acknowledged_at=by_holder[holder].acknowledged_at if holder in by_holder else None,
            purged=by_holder[holder].purged if holder in by_holder else None,
            redacted=by_holder[holder].redacted if holder in by_holder else None,
            reported_at=reported_at.get(holder),
        )
        for holder in [*withdrawal.expected_holders, *(h for h in by_holder if h not in withdrawal.expected_holders)]
    ]
    return WithdrawalRead(
        id=withdrawal.id,
        consent_id=withdrawal.consent_id,
        beneficiary_id=withdrawal.beneficiary_id,
        owner_office_id=withdrawal.owner_office_id,
        kind=withdrawal.kind,
        superseded_by=withdrawal.superseded_by,
        withdrawn_scopes=[ScopeTerms.model_validate(s) for s in withdrawal.withdrawn_scopes],
        withdrawn_at=withdrawal.withdrawn_at,
        acknowledge_by=withdrawal.acknowledge_by,
        status=rules.withdrawal_status(
            withdrawal.expected_holders, by_holder, acknowledge_by=withdrawal.acknowledge_by, now=now
        ),
        holders=holders,
    )


async def list_withdrawals(
    uow: CaseUnitOfWork,
    *,
    actor: Principal,
    status: WithdrawalStatus | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
    now: datetime,
) -> list[WithdrawalRead]:
    """The caller's office's withdrawals, newest first, with each holder's acknowledgement or its absence."""
    assert actor.office_id is not None  # noqa: S101
    rows = await uow.withdrawals.page_of_office(
        office_id=actor.office_id, status=status, now=now, after=after, limit=limit
    )
    ids = [w.id for w in rows]
    acknowledgements = await uow.withdrawals.acknowledgements_of(ids)
    reports = await uow.withdrawals.overdue_reports_of(ids)
    uow.audit.record(actor, AuditAction.LIST, resource_type="consent_withdrawal", resource_id=None, purpose="audit")
    return [
        _withdrawal_view(
            w,
            [a for a in acknowledgements if a.withdrawal_id == w.id],
            [r for r in reports if r.withdrawal_id == w.id],
            now,
        )
        for w in rows
    ]


async def read_withdrawal(
    uow: CaseUnitOfWork, withdrawal_id: UUID, *, actor: Principal, now: datetime
) -> WithdrawalRead:
    assert actor.office_id is not None  # noqa: S101
    withdrawal = await uow.withdrawals.get_of_office(withdrawal_id, office_id=actor.office_id)
    if withdrawal is None:
        raise WithdrawalNotFound(withdrawal_id=withdrawal_id)
    uow.audit.record(
        actor, AuditAction.VIEW, resource_type="consent_withdrawal", resource_id=withdrawal_id, purpose="audit"
    )
    return _withdrawal_view(
        withdrawal,
        await uow.withdrawals.acknowledgements_of([withdrawal.id]),
        await uow.withdrawals.overdue_reports_of([withdrawal.id]),
        now,
    )

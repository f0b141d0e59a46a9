"""Data-subject rights (data-protection.md §8): erasure on request, legal holds, the access report.

Who: the office that registered the person or owns one of their cases; role ``data_controller`` or
``supervisor`` (R-S5: the named data controller answers these requests; a supervisor stands in). Any other office
gets the same 404 as for an unknown id.
"""

from collections.abc import Collection
from datetime import datetime
from uuid import UUID

from case_service.domain.assessments import Assessment, CaseNote
from case_service.domain.disclosure import DOCUMENT_SECTION, Section, redact
from case_service.domain.documents import CaseDocument
from case_service.domain.errors import (
    BeneficiaryNotFound,
    LegalHoldNotFound,
    RetentionHold,
    SubjectRightsRoleRequired,
)
from case_service.domain.follow_ups import FollowUpVisit
from case_service.domain.models import Beneficiary, Case, is_minor
from case_service.domain.subject_rights import (
    BeneficiaryErasure,
    CaseRetention,
    LegalHold,
    anonymise,
    retention_holds,
)
from case_service.repositories.documents import DocumentMetadata
from case_service.repositories.follow_ups import VisitNotes
from case_service.schemas.subject_rights import (
    AccessReport,
    AssessmentRecord,
    AssistanceRecord,
    BeneficiaryRecord,
    CaseRecord,
    ConsentHistoryRecord,
    Disclosure,
    DocumentRecord,
    ErasureRead,
    FollowUpRecord,
    LegalHoldRead,
    NoteRecord,
    PlaceLegalHold,
    PlanRecord,
    RequestErasure,
    WithdrawalRecord,
)
from case_service.service_layer.vault import shred
from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.access import ENCRYPTED_AT_REST, DataCategory, Purpose, Role
from casebridge_common.audit import AuditAction, AuditEntry, AuditOutcome
from casebridge_common.auth import Principal, Scope
from casebridge_common.events.contracts.case import BeneficiaryErased

SUBJECT_RIGHTS_ROLES: frozenset[str] = frozenset({Role.DATA_CONTROLLER, Role.SUPERVISOR})
ERASED_CATEGORIES: list[str] = sorted({DataCategory.IDENTITY_BIODATA, *ENCRYPTED_AT_REST})
# audit actions that are a disclosure whoever performed them
_DISCLOSING_ACTIONS: dict[str, str] = {
    AuditAction.SHARE: "share",
    AuditAction.DISCLOSE: "disclose",
    AuditAction.EXPORT: "export",
    AuditAction.BREAK_GLASS: "break_glass",
}
_READ_ACTIONS = frozenset({AuditAction.VIEW, AuditAction.LIST})


def _require_role(actor: Principal) -> None:
    if not actor.roles & SUBJECT_RIGHTS_ROLES:
        raise SubjectRightsRoleRequired(required_roles=sorted(SUBJECT_RIGHTS_ROLES))


async def _subject(
    uow: CaseUnitOfWork, beneficiary_id: UUID, actor: Principal, *, for_update: bool
) -> tuple[Beneficiary, list[Case]]:
    """The person and all their cases, if the caller's office registered them or owns one of the cases."""
    beneficiary = await uow.subject_records.beneficiary(beneficiary_id, for_update=for_update)
    cases = [] if beneficiary is None else await uow.subject_records.cases_of(beneficiary_id, for_update=for_update)
    office = actor.office_id
    if beneficiary is None or (
        beneficiary.registering_office_id != office and all(c.owner_office_id != office for c in cases)
    ):
        raise BeneficiaryNotFound(beneficiary_id=beneficiary_id)
    return beneficiary, cases


def _retention(beneficiary: Beneficiary, case: Case) -> CaseRetention:
    ended_at = case.stage_changed_at or case.opened_at
    return CaseRetention(
        case_id=case.id, stage=case.stage, ended_at=ended_at, child=is_minor(beneficiary.born_on, ended_at.date())
    )


async def erase_beneficiary(
    uow: CaseUnitOfWork, beneficiary_id: UUID, command: RequestErasure, *, actor: Principal, now: datetime
) -> tuple[BeneficiaryErasure, bool]:
    """Erase the person on request: crypto-shred their key, anonymise their identity, keep the audit trail.

    Refused (``retention-hold``) while the retention rules still keep the records (domain/subject_rights.py).
    Emits `beneficiary.erased` so every other holder drops its copies. Idempotent: a repeat returns the first
    erasure's record and ``False``, and changes nothing.
    """
    _require_role(actor)
    assert actor.office_id is not None  # noqa: S101 - the router requires an office claim
    beneficiary, cases = await _subject(uow, beneficiary_id, actor, for_update=True)
    if (done := await uow.subject_records.erasure(beneficiary_id)) is not None:
        uow.audit.record(
            actor,
            AuditAction.VIEW,
            resource_type="beneficiary_erasure",
            resource_id=beneficiary_id,
            purpose=Purpose.AUDIT,
        )
        return done, False
    holds = retention_holds(
        [_retention(beneficiary, c) for c in cases],
        [h.id for h in await uow.subject_records.holds(beneficiary_id, active_only=True)],
        now=now,
    )
    if holds:
        raise RetentionHold(
            holds=[
                {
                    "reason": h.reason,
                    "case_id": None if h.case_id is None else str(h.case_id),
                    "legal_hold_id": None if h.hold_id is None else str(h.hold_id),
                    "until": None if h.until is None else h.until.isoformat(),
                }
                for h in holds
            ]
        )
    await shred(uow, beneficiary_id, cases)
    await uow.imports.scrub_rows_of(beneficiary_id, [c.id for c in cases])
    await uow.monitoring.clear_pending([c.id for c in cases])  # the weekly job must not profile them again
    anonymise(beneficiary)
    await uow.subject_records.anonymise_consents(beneficiary_id)
    erasure = BeneficiaryErasure(
        beneficiary_id=beneficiary_id,
        reason=command.reason,
        request_reference=command.request_reference,
        requested_by=actor.subject,
        requested_by_office_id=actor.office_id,
        case_ids=[str(c.id) for c in cases],
        erased_at=now,
    )
    uow.subject_records.add_erasure(erasure)
    uow.outbox.emit(BeneficiaryErased(beneficiary_id=beneficiary_id, case_ids=[c.id for c in cases], erased_at=now))
    uow.audit.record(
        actor,
        AuditAction.ERASE,
        resource_type="beneficiary",
        resource_id=beneficiary_id,
        categories=ERASED_CATEGORIES,
        purpose=Purpose.AUDIT,
    )
    for case in cases:
        uow.audit.record(
            actor,
            AuditAction.ERASE,
            resource_type="case",
            resource_id=case.id,
            case_id=case.id,
            categories=ERASED_CATEGORIES,
            purpose=Purpose.AUDIT,
        )
    return erasure, True


async def place_legal_hold(
    uow: CaseUnitOfWork, beneficiary_id: UUID, command: PlaceLegalHold, *, actor: Principal, now: datetime
) -> LegalHold:
    """While a legal hold is in place, erasure is refused (R-R1's legal-hold override)."""
    _require_role(actor)
    assert actor.office_id is not None  # noqa: S101
    await _subject(uow, beneficiary_id, actor, for_update=True)
    hold = LegalHold(
        beneficiary_id=beneficiary_id,
        reason=command.reason,
        authority_reference=command.authority_reference,
        placed_by=actor.subject,
        placed_by_office_id=actor.office_id,
        placed_at=now,
    )
    uow.subject_records.add_hold(hold)
    uow.audit.record(actor, AuditAction.CREATE, resource_type="legal_hold", resource_id=hold.id, purpose=Purpose.AUDIT)
    return hold


async def release_legal_hold(
    uow: CaseUnitOfWork, beneficiary_id: UUID, hold_id: UUID, *, actor: Principal, now: datetime
) -> LegalHold:
    """Releasing a released hold changes nothing and answers the same."""
    _require_role(actor)
    await _subject(uow, beneficiary_id, actor, for_update=True)
    hold = await uow.subject_records.hold(beneficiary_id, hold_id, for_update=True)
    if hold is None:
        raise LegalHoldNotFound(legal_hold_id=hold_id)
    if hold.released_at is None:
        hold.released_by, hold.released_at = actor.subject, now
        uow.audit.record(
            actor, AuditAction.UPDATE, resource_type="legal_hold", resource_id=hold.id, purpose=Purpose.AUDIT
        )
    return hold


def _assessment_record(assessment: Assessment, *, sensitive: bool) -> AssessmentRecord:
    shown = (not assessment.is_sensitive or sensitive) and not assessment.is_erased
    return AssessmentRecord(
        id=assessment.id,
        kind=assessment.kind,
        version=assessment.version,
        is_sensitive=assessment.is_sensitive,
        data=assessment.data if shown else None,
        erased=assessment.is_erased,
        recorded_by=assessment.recorded_by,
        recorded_at=assessment.recorded_at,
    )


def _note_record(note: CaseNote, *, sensitive: bool) -> NoteRecord:
    shown = (not note.is_confidential or sensitive) and not note.is_erased
    return NoteRecord(
        id=note.id,
        body=note.body if shown else None,
        is_confidential=note.is_confidential,
        erased=note.is_erased,
        author=note.author,
        written_at=note.written_at,
    )


def document_record(
    document: CaseDocument, metadata: DocumentMetadata, allowed: Collection[DataCategory]
) -> tuple[DocumentRecord, bool]:
    """Metadata only, projected by the document kind's section of the disclosure table; True when a value was
    withheld from this report."""
    full: dict[str, object] = {
        "id": document.id,
        "kind": document.kind,
        "media_type": document.media_type,
        "filename": metadata.filename,
        "description": metadata.description,
        "size_bytes": document.size_bytes,
        "sha256": document.sha256,
        "erased": metadata.erased,
        "uploaded_by": document.uploaded_by,
        "uploaded_at": document.uploaded_at,
        "deleted_by": document.deleted_by,
        "deleted_at": document.deleted_at,
    }
    view = redact(DOCUMENT_SECTION[document.kind], full, allowed)
    return DocumentRecord.model_validate(view.data), _cut(full, view.data)


def follow_up_record(
    visit: FollowUpVisit, opened: VisitNotes, allowed: Collection[DataCategory]
) -> tuple[FollowUpRecord, bool]:
    """The visit projected by the follow-up section of the disclosure table; True when a value was withheld."""
    full: dict[str, object] = {
        "id": visit.id,
        "phase": visit.phase,
        "schedule": visit.schedule,
        "anchor_on": visit.anchor_on,
        "planned_on": visit.planned_on,
        "kind": visit.kind,
        "status": visit.status,
        "held_on": visit.held_on,
        "outcome": visit.outcome,
        "notes": opened.notes,
        "psychosocial_notes": opened.psychosocial_notes,
        "is_overdue": visit.is_overdue,
        "overdue_at": visit.overdue_at,
        "erased": opened.erased,
        "created_by": visit.created_by,
        "created_at": visit.created_at,
        "recorded_by": visit.recorded_by,
        "recorded_at": visit.recorded_at,
        "version": visit.version,
    }
    view = redact(Section.FOLLOW_UP, full, allowed)
    return FollowUpRecord.model_validate(view.data), _cut(full, view.data)


def _cut(full: dict[str, object], kept: dict[str, object]) -> bool:
    # a field with nothing in it (no notes yet, erased metadata) hides nothing from the person
    return any(name not in kept and value is not None for name, value in full.items())


def report_categories(*, sensitive: bool) -> list[DataCategory]:
    """What the report may open: every category with `cases.sensitive:read`, else those not encrypted at rest."""
    return [c for c in DataCategory if sensitive or c not in ENCRYPTED_AT_REST]


def _audit_disclosure(entry: AuditEntry, home_offices: set[str | None]) -> Disclosure | None:
    """An audit entry is a disclosure when it records a share, disclosure, export or break-glass, or any allowed
    read by an office that is not the person's own (the registering office or a current owner)."""
    if entry.outcome != AuditOutcome.ALLOWED:
        return None
    kind = _DISCLOSING_ACTIONS.get(entry.action)
    if kind is None and entry.action in _READ_ACTIONS and entry.actor_office_id not in home_offices:
        kind = "read"
    if kind is None:
        return None
    case_id = entry.case_id
    if case_id is None and entry.resource_type == "case" and entry.resource_id is not None:
        case_id = UUID(entry.resource_id)
    return Disclosure(
        kind=kind,
        case_id=case_id,
        recipient_office_id=entry.actor_office_id,
        recipient_organisation_id=entry.actor_organisation_id,
        categories=list(entry.categories),
        purpose=entry.purpose,
        at=entry.at,
        basis=entry.basis,
        status=entry.resource_type,
    )


async def _disclosures(
    uow: CaseUnitOfWork, beneficiary: Beneficiary, cases: list[Case], resource_ids: list[UUID]
) -> list[Disclosure]:
    case_ids = [c.id for c in cases]
    home: set[str | None] = {beneficiary.registering_office_id, *(c.owner_office_id for c in cases)}
    found = [
        d
        for entry in await uow.subject_records.audit_of(case_ids, resource_ids)
        if (d := _audit_disclosure(entry, home)) is not None
    ]
    for case in cases:
        found += [
            Disclosure(
                kind="share",
                case_id=case.id,
                recipient_office_id=share.office_id,
                recipient_organisation_id=None,
                categories=[],  # a share shows what consent allows at each read: the reads above list them
                purpose=None,
                at=share.granted_at,
                until=share.revoked_at or share.expires_at,
                basis=str(share.id),
                status=share.mode,
            )
            for share in await uow.shares.of_case(case.id)
        ]
        for transfer in await uow.transfers.of_case(case.id):
            manifest = transfer.manifest
            categories, consent_ids = manifest.get("categories"), manifest.get("consent_ids")
            found.append(
                Disclosure(
                    kind="transfer",
                    case_id=case.id,
                    recipient_office_id=transfer.to_office_id,
                    recipient_organisation_id=transfer.to_organisation_id,
                    categories=[str(c) for c in categories] if isinstance(categories, list) else [],
                    purpose=str(manifest.get("purpose", Purpose.CROSS_BORDER_HANDOVER)),
                    at=transfer.proposed_at,
                    until=transfer.decided_at,
                    basis=",".join(str(c) for c in consent_ids) if isinstance(consent_ids, list) else None,
                    status=transfer.status,
                )
            )
    found += [
        Disclosure(
            kind="referral",
            case_id=link.case_id,
            recipient_office_id=link.destination_office_id,
            recipient_organisation_id=link.destination_organisation_id,
            categories=[],  # the manifest sent is in referral-service's disclosure ledger
            purpose=Purpose.REFERRAL_SERVICE_DELIVERY,
            at=link.updated_at,
            basis=str(link.referral_id),
            status="active" if link.active else "closed",
        )
        for link in await uow.subject_records.referral_links_of(case_ids)
    ]
    return sorted(found, key=lambda d: d.at)


async def access_report(uow: CaseUnitOfWork, beneficiary_id: UUID, *, actor: Principal, now: datetime) -> AccessReport:
    """Everything held about the person and every disclosure of it. Sensitive content (C3/C4 assessments,
    confidential notes, and the fields of documents and follow-up visits whose category is encrypted at rest) is
    included opened when the token holds `cases.sensitive:read`, else listed as withheld. Documents are listed by
    their metadata, never their content.
    The report itself is recorded as an export in the audit log."""
    _require_role(actor)
    assert actor.office_id is not None  # noqa: S101
    beneficiary, cases = await _subject(uow, beneficiary_id, actor, for_update=False)
    sensitive = Scope.CASES_SENSITIVE_READ in actor.scopes
    categories = report_categories(sensitive=sensitive)
    withheld: set[str] = set()
    records: list[CaseRecord] = []
    resource_ids: list[UUID] = [beneficiary_id]
    for case in cases:
        assessments = await uow.assessments.history(case.id, None)
        notes = await uow.notes.all_of(case.id)
        plans = await uow.plans.all_of(case.id)
        assistance = await uow.assistance.of_case(case.id)
        documents = [
            document_record(d, await uow.documents.metadata(d), categories)
            for d in await uow.subject_records.documents_of(case.id)
        ]
        visits = [
            follow_up_record(v, await uow.follow_ups.notes_of(v), categories)
            for v in await uow.subject_records.follow_ups_of(case.id)
        ]
        resource_ids += [*(a.id for a in assessments), *(n.id for n in notes), *(p.id for p in plans)]
        resource_ids += [*(i.id for i in assistance), *(d.id for d, _ in documents), *(v.id for v, _ in visits)]
        if any(cut for _, cut in documents):
            withheld.add("sensitive_document_metadata")
        if any(cut for _, cut in visits):
            withheld.add("follow_up_outcomes")
        if not sensitive and any(a.is_sensitive and not a.is_erased for a in assessments):
            withheld.add("sensitive_assessments")
        if not sensitive and any(n.is_confidential and not n.is_erased for n in notes):
            withheld.add("confidential_notes")
        records.append(
            CaseRecord(
                id=case.id,
                programme=case.programme,
                stage=case.stage,
                owner_office_id=case.owner_office_id,
                opened_at=case.opened_at,
                assessments=[_assessment_record(a, sensitive=sensitive) for a in assessments],
                plans=[PlanRecord.model_validate(p) for p in plans],
                notes=[_note_record(n, sensitive=sensitive) for n in notes],
                assistance=[AssistanceRecord.model_validate(i) for i in assistance],
                documents=[d for d, _ in documents],
                follow_ups=[v for v, _ in visits],
            )
        )
    consents = []
    for consent in await uow.consents.history_of(beneficiary_id):
        withdrawals = [WithdrawalRecord.model_validate(w) for w in await uow.withdrawals.of_consent(consent.id)]
        consents.append(ConsentHistoryRecord.model_validate(consent.model_dump() | {"withdrawals": withdrawals}))
        resource_ids.append(consent.id)
    erasure = await uow.subject_records.erasure(beneficiary_id)
    report = AccessReport(
        beneficiary_id=beneficiary_id,
        generated_at=now,
        generated_by=actor.subject,
        generated_by_office_id=actor.office_id,
        beneficiary=BeneficiaryRecord.model_validate(beneficiary),
        erasure=None if erasure is None else ErasureRead.model_validate(erasure),
        legal_holds=[
            LegalHoldRead.model_validate(h) for h in await uow.subject_records.holds(beneficiary_id, active_only=False)
        ],
        cases=records,
        consents=consents,
        disclosures=await _disclosures(uow, beneficiary, cases, resource_ids),
        withheld=sorted(withheld),
    )
    uow.audit.record(
        actor,
        AuditAction.EXPORT,
        resource_type="beneficiary",
        resource_id=beneficiary_id,
        categories=[str(c) for c in categories],
        purpose=Purpose.AUDIT,
    )
    for case in cases:
        uow.audit.record(
            actor,
            AuditAction.EXPORT,
            resource_type="case",
            resource_id=case.id,
            case_id=case.id,
            categories=[str(c) for c in categories],
            purpose=Purpose.AUDIT,
        )
    return report

"""The access report's records of documents and follow-up visits, projected by the disclosure table (no I/O)."""

import uuid
from datetime import UTC, date, datetime

import pytest

from case_service.domain.disclosure import DOCUMENT_SECTION, SECTIONS, Section
from case_service.domain.documents import KIND_CATEGORY, CaseDocument, DocumentKind, MediaType
from case_service.domain.follow_ups import FollowUpVisit, Schedule, VisitOutcome, VisitStatus
from case_service.repositories.documents import ERASED, DocumentMetadata
from case_service.repositories.follow_ups import VisitNotes
from case_service.schemas.subject_rights import DocumentRecord, FollowUpRecord
from case_service.service_layer.subject_rights import document_record, follow_up_record, report_categories
from casebridge_common.access import ENCRYPTED_AT_REST, DataCategory
from casebridge_common.events.contracts.case import FollowUpPhase, VisitKind

NOW = datetime(2026, 12, 20, 10, tzinfo=UTC)
ALL = report_categories(sensitive=True)
PLAIN = report_categories(sensitive=False)


def a_document(kind: DocumentKind) -> CaseDocument:
    return CaseDocument(
        case_id=uuid.uuid4(),
        kind=kind,
        media_type=MediaType.PDF,
        size_bytes=1024,
        sha256="0" * 64,
        sealed_metadata=b"sealed",
        sealed_content=b"sealed",
        uploaded_by="anna.schmidt",
        uploaded_at=NOW,
    )


def a_held_visit() -> FollowUpVisit:
    return FollowUpVisit(
        case_id=uuid.uuid4(),
        phase=FollowUpPhase.FOLLOW_UP,
        schedule=Schedule.STANDARD,
        anchor_on=date(2026, 11, 1),
        planned_on=date(2026, 12, 1),
        kind=VisitKind.HOME_VISIT,
        status=VisitStatus.COMPLETED,
        held_on=date(2026, 12, 1),
        outcome=VisitOutcome.PLAN_ON_TRACK,
        created_by="fatou.diop",
        created_at=NOW,
        recorded_by="fatou.diop",
        recorded_at=NOW,
        version=2,
    )


NOTES = VisitNotes(notes="Shop open", psychosocial_notes="Sleeps better", erased=False)
METADATA = DocumentMetadata(filename="passport.pdf", description="Passport of Awa")


@pytest.mark.parametrize("kind", list(DocumentKind))
def test_every_field_of_a_document_record_is_classified_in_its_kinds_section(kind: DocumentKind) -> None:
    mapping = SECTIONS[DOCUMENT_SECTION[kind]]
    assert (
        sorted(n for n in DocumentRecord.model_fields if n not in mapping.fields and n not in mapping.structure) == []
    )


def test_every_field_of_a_follow_up_record_is_classified() -> None:
    mapping = SECTIONS[Section.FOLLOW_UP]
    assert (
        sorted(n for n in FollowUpRecord.model_fields if n not in mapping.fields and n not in mapping.structure) == []
    )


def test_without_the_sensitive_scope_the_report_opens_no_category_encrypted_at_rest() -> None:
    assert set(ALL) == set(DataCategory)
    assert set(PLAIN) == set(DataCategory) - ENCRYPTED_AT_REST
    assert DataCategory.IDENTITY_BIODATA in PLAIN


@pytest.mark.parametrize("kind", list(DocumentKind))
def test_a_documents_name_and_description_follow_its_kinds_category(kind: DocumentKind) -> None:
    document = a_document(kind)
    record, cut = document_record(document, METADATA, PLAIN)
    hidden = KIND_CATEGORY[kind] in ENCRYPTED_AT_REST
    assert cut is hidden
    assert (record.filename, record.description) == ((None, None) if hidden else ("passport.pdf", "Passport of Awa"))
    assert (record.id, record.kind, record.size_bytes, record.sha256) == (document.id, kind, 1024, "0" * 64)
    opened, cut = document_record(document, METADATA, ALL)
    assert (opened.filename, cut) == ("passport.pdf", False)


def test_a_medical_record_is_clinical_and_a_passport_personal() -> None:
    assert document_record(a_document(DocumentKind.MEDICAL_RECORD), METADATA, PLAIN)[1] is True
    assert document_record(a_document(DocumentKind.IDENTITY_DOCUMENT), METADATA, PLAIN)[1] is False


def test_an_erased_or_deleted_document_keeps_its_structure() -> None:
    document = a_document(DocumentKind.IDENTITY_DOCUMENT)
    document.deleted_by, document.deleted_at = "anna.schmidt", NOW
    record, cut = document_record(document, ERASED, ALL)
    assert (record.erased, record.filename, record.deleted_by, record.deleted_at, cut) == (
        True,
        None,
        "anna.schmidt",
        NOW,
        False,
    )


def test_a_visits_outcome_and_notes_need_the_case_notes_and_psychosocial_categories() -> None:
    visit = a_held_visit()
    shown, cut = follow_up_record(visit, NOTES, ALL)
    assert (shown.outcome, shown.notes, shown.psychosocial_notes, cut) == (
        VisitOutcome.PLAN_ON_TRACK,
        "Shop open",
        "Sleeps better",
        False,
    )
    plain, cut = follow_up_record(visit, NOTES, PLAIN)
    assert (plain.outcome, plain.notes, plain.psychosocial_notes, cut) == (None, None, None, True)
    assert (plain.id, plain.status, plain.planned_on, plain.held_on) == (
        visit.id,
        VisitStatus.COMPLETED,
        date(2026, 12, 1),
        date(2026, 12, 1),
    )


def test_a_planned_visit_with_nothing_recorded_withholds_nothing() -> None:
    visit = a_held_visit()
    visit.status, visit.held_on, visit.outcome = VisitStatus.PLANNED, None, None
    record, cut = follow_up_record(visit, VisitNotes(None, None, erased=False), PLAIN)
    assert (record.status, record.outcome, cut) == (VisitStatus.PLANNED, None, False)

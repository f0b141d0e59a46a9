"""The opening's single statement (repositories/openings.py) writes the same columns as the buffers and the
journal fill for the ORM path: a field added to an outbox row, an audit entry or a journal entry fails here
instead of being dropped by `jsonb_populate_recordset` on the API path only. And the opening's answer, built from
the new case's columns, is the one its attributes give."""

import uuid
from dataclasses import fields
from datetime import UTC, date, datetime

from case_people import BERLIN_SYSTEM

from case_service.domain.models import new_case_columns, open_case_for
from case_service.domain.sync import JournalEntry
from case_service.repositories.openings import (
    AUDIT_COLUMNS,
    IDEMPOTENCY_COLUMNS,
    JOURNAL_COLUMNS,
    OUTBOX_COLUMNS,
)
from case_service.schemas import CaseRead
from casebridge_common.audit import AuditAction, AuditBuffer
from casebridge_common.events.contracts.case import CaseOpened, Programme
from casebridge_common.http import IdempotencyRecord
from casebridge_common.outbox import EventBuffer


def test_outbox_rows_have_exactly_the_columns_the_statement_inserts() -> None:
    buffer = EventBuffer(source="/casebridge/case-service")
    buffer.emit(
        CaseOpened(
            case_id=uuid.uuid4(),
            case_version=1,
            beneficiary_id=uuid.uuid4(),
            programme=Programme.RETURN_REINTEGRATION,
            owner_office_id="de-berlin",
            owner_organisation_id="iom-germany",
            opened_at=datetime.now(UTC),
            subject_is_minor=False,
        )
    )
    assert set(buffer.pending[0]) == set(OUTBOX_COLUMNS)


def test_audit_rows_have_exactly_the_columns_the_statement_inserts() -> None:
    audit = AuditBuffer()
    audit.record(BERLIN_SYSTEM, AuditAction.CREATE, resource_type="case", resource_id=uuid.uuid4())
    assert set(audit.pending[0]) == set(AUDIT_COLUMNS)
    assert not {"seq", "prev_hash", "entry_hash"} & set(AUDIT_COLUMNS)  # the sealer's


def test_journal_and_idempotency_columns_are_the_records_fields() -> None:
    assert {f.name for f in fields(JournalEntry)} == set(JOURNAL_COLUMNS)
    assert set(IdempotencyRecord.model_fields) - {"created_at"} == set(IDEMPOTENCY_COLUMNS)


def test_a_new_cases_answer_built_from_its_columns_is_the_one_read_from_its_attributes() -> None:
    """`POST /v1/cases` validates its answer from the new case's columns (service_layer/cases.open_case)."""
    now = datetime.now(UTC)
    for programme, profile in (
        (Programme.RETURN_REINTEGRATION, {"host_country": "DE", "returned_on": date(2026, 11, 2)}),
        (Programme.RESETTLEMENT_INTEGRATION, {}),
    ):
        case = open_case_for(
            uuid.uuid4(),
            programme=programme,
            office_id="de-berlin",
            organisation_id="iom-germany",
            assigned_worker="worker.a",
            now=now,
            return_profile=profile,
        )
        assert CaseRead.model_validate(new_case_columns(case)) == CaseRead.model_validate(case, from_attributes=True)

"""The outbox's envelope document is the CloudEvent model's JSON form, field for field."""

import uuid
from datetime import UTC, datetime

from casebridge_common.events.contracts.case import CaseOpened, Programme
from casebridge_common.events.envelope import CloudEvent

OPENED = CaseOpened(
    case_id=uuid.uuid4(),
    case_version=1,
    beneficiary_id=uuid.uuid4(),
    programme=Programme.RETURN_REINTEGRATION,
    owner_office_id="de-berlin",
    owner_organisation_id="iom-germany",
    opened_at=datetime(2026, 12, 2, 9, 30, tzinfo=UTC),
    subject_is_minor=False,
)
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_document_is_the_models_json_form() -> None:
    for traceparent in (TRACEPARENT, None):
        document = CloudEvent.document(OPENED, source="/casebridge/case-service", traceparent=traceparent)
        model = CloudEvent.model_validate(document)
        assert model.model_dump(mode="json", exclude_none=True) == document


def test_document_fields() -> None:
    before = datetime.now(UTC)
    document = CloudEvent.document(OPENED, source="/casebridge/case-service", traceparent=TRACEPARENT)
    assert uuid.UUID(document["id"]).version == 4
    assert document["subject"] == str(OPENED.case_id)
    assert document["type"] == "casebridge.case.opened.v1"
    assert document["dataschema"].endswith("#/components/messages/casebridge.case.opened.v1")
    assert document["traceparent"] == TRACEPARENT
    assert document["time"].endswith("Z")
    assert datetime.fromisoformat(document["time"]) >= before
    assert document["data"]["opened_at"] == "2026-12-02T09:30:00Z"
    assert "traceparent" not in CloudEvent.document(OPENED, source="/casebridge/case-service")


def test_wrap_builds_the_same_envelope() -> None:
    wrapped = CloudEvent.wrap(OPENED, source="/casebridge/case-service", traceparent=TRACEPARENT)
    assert wrapped.subject == str(OPENED.case_id)
    assert wrapped.traceparent == TRACEPARENT
    assert wrapped.data == OPENED.model_dump(mode="json")

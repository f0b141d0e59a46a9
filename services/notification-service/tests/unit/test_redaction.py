from notification_service.domain.redaction import redacted_envelope


def test_a_redacted_envelope_keeps_the_cloudevent_attributes_and_drops_the_data() -> None:
    event = {
        "specversion": "1.0",
        "id": "e-1",
        "source": "/casebridge/case-service",
        "type": "casebridge.case.opened.v1",
        "subject": "7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11",
        "time": "2026-12-01T10:00:00Z",
        "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "data": {"beneficiary_id": "0b7e2f1c-5d9a-4e7b-9a51-2f6c1d3e8a90", "owner_office_id": "de-berlin"},
    }
    assert redacted_envelope(event) == {
        "specversion": "1.0",
        "id": "e-1",
        "source": "/casebridge/case-service",
        "type": "casebridge.case.opened.v1",
        "subject": "7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11",
        "time": "2026-12-01T10:00:00Z",
        "data": {"redacted": True},
    }

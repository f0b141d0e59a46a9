import uuid
from datetime import UTC, datetime

from casebridge_common.events.contracts.case import CaseOpened, Programme
from notification_service.domain.models import InboxKind, item_for_case_opened


def test_case_opened_goes_to_the_owning_office_without_personal_data() -> None:
    opened = CaseOpened(
        case_id=uuid.uuid4(),
        case_version=1,
        beneficiary_id=uuid.uuid4(),
        programme=Programme.RESETTLEMENT_INTEGRATION,
        owner_office_id="sn-dakar",
        owner_organisation_id="iom-senegal",
        opened_at=datetime.now(UTC),
    )
    item = item_for_case_opened(opened, event_id="e-1", now=datetime.now(UTC))
    assert (item.office_id, item.kind, item.case_id) == ("sn-dakar", InboxKind.CASE_OPENED, opened.case_id)
    assert item.title == "New resettlement & integration case opened"

import uuid
from datetime import UTC, date, datetime

from casebridge_common.events.contracts.case import CaseOpened, Programme
from casebridge_common.events.contracts.scoring import Administration, SurveyDue
from notification_service.domain.models import InboxKind
from notification_service.domain.rules import RULES, Notice, notices_for


def a_case_opened(office: str = "sn-dakar") -> CaseOpened:
    return CaseOpened(
        case_id=uuid.uuid4(),
        case_version=1,
        beneficiary_id=uuid.uuid4(),
        programme=Programme.RESETTLEMENT_INTEGRATION,
        owner_office_id=office,
        owner_organisation_id="iom-senegal",
        opened_at=datetime.now(UTC),
    )


def test_case_opened_goes_to_the_owning_office_without_personal_data() -> None:
    opened = a_case_opened()
    [notice] = notices_for(CaseOpened.type, opened.model_dump(mode="json"))
    assert notice == Notice(
        kind=InboxKind.CASE_OPENED,
        title="New resettlement & integration case opened",
        case_id=opened.case_id,
        office_id="sn-dakar",
        params={"case_id": str(opened.case_id), "programme": "resettlement & integration"},
    )
    assert str(opened.beneficiary_id) not in notice.title + str(notice.params)


def test_survey_due_goes_to_the_owning_office_with_the_due_date() -> None:
    due = SurveyDue(
        survey_schedule_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        owner_office_id="de-berlin",
        administration=Administration.BASELINE,
        instrument="rss",
        due_on=date(2027, 1, 3),
    )
    [notice] = notices_for(SurveyDue.type, due.model_dump(mode="json"))
    assert (notice.kind, notice.office_id, notice.case_id) == (InboxKind.SURVEY_DUE, "de-berlin", due.case_id)
    assert notice.title == "Baseline rss survey due by 2027-01-03"


def test_each_administration_has_its_own_label() -> None:
    titles = set()
    for administration in Administration:
        due = SurveyDue(
            survey_schedule_id=uuid.uuid4(),
            case_id=uuid.uuid4(),
            owner_office_id="de-berlin",
            administration=administration,
            instrument="rss",
            due_on=date(2027, 1, 3),
        )
        titles.add(notices_for(SurveyDue.type, due.model_dump(mode="json"))[0].title.split()[0])
    assert titles == {"Baseline", "Intermediary", "Final"}


def test_an_event_type_without_a_rule_tells_nobody() -> None:
    assert notices_for("casebridge.beneficiary.registered.v1", {"beneficiary_id": str(uuid.uuid4())}) == []
    assert set(RULES) == {CaseOpened.type, SurveyDue.type}

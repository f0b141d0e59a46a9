"""Who is told what: CloudEvent type → the inbox notices it produces. A new rule is one entry in RULES."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from uuid import UUID

from casebridge_common.events.contracts.case import CaseOpened, Programme
from casebridge_common.events.contracts.scoring import Administration, SurveyDue
from notification_service.domain.models import InboxKind


@dataclass(frozen=True, slots=True)
class Notice:
    """One inbox item to create: for an office or an organisation, optionally for one user of it."""

    kind: InboxKind
    title: str
    case_id: UUID | None
    office_id: str | None = None
    organisation_id: str | None = None
    recipient_subject: str | None = None
    params: dict[str, str] = field(default_factory=dict)  # the e-mail templates' variables: no personal data


Rule = Callable[[Mapping[str, object]], list[Notice]]

_PROGRAMME_LABEL = {
    Programme.RETURN_REINTEGRATION: "return & reintegration",
    Programme.RESETTLEMENT_INTEGRATION: "resettlement & integration",
}


def case_opened(data: Mapping[str, object]) -> list[Notice]:
    opened = CaseOpened.model_validate(data)
    return [
        Notice(
            kind=InboxKind.CASE_OPENED,
            title=f"New {_PROGRAMME_LABEL[opened.programme]} case opened",
            case_id=opened.case_id,
            office_id=opened.owner_office_id,
            params={"case_id": str(opened.case_id), "programme": _PROGRAMME_LABEL[opened.programme]},
        )
    ]


def survey_due(data: Mapping[str, object]) -> list[Notice]:
    due = SurveyDue.model_validate(data)
    label = {Administration.BASELINE: "Baseline", Administration.INTERMEDIARY: "Intermediary"}.get(
        due.administration, "Final"
    )
    return [
        Notice(
            kind=InboxKind.SURVEY_DUE,
            title=f"{label} {due.instrument} survey due by {due.due_on.isoformat()}",
            case_id=due.case_id,
            office_id=due.owner_office_id,
            params={
                "case_id": str(due.case_id),
                "administration": due.administration.value,
                "instrument": due.instrument,
                "due_on": due.due_on.isoformat(),
            },
        )
    ]


RULES: dict[str, Rule] = {CaseOpened.type: case_opened, SurveyDue.type: survey_due}


def notices_for(event_type: str, data: Mapping[str, object]) -> list[Notice]:
    """The notices an event produces; an event type without a rule produces none."""
    rule = RULES.get(event_type)
    return rule(data) if rule is not None else []

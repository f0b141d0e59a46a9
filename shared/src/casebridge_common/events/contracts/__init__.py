"""Event payloads per aggregate family. Changes are additive; a breaking change is a new ``.vN`` type."""

from casebridge_common.events.contracts.case import BeneficiaryRegistered, CaseOpened
from casebridge_common.events.contracts.notification import InboxItemCreated
from casebridge_common.events.contracts.scoring import SurveyDue
from casebridge_common.events.envelope import Event

ALL_EVENTS: tuple[type[Event], ...] = (BeneficiaryRegistered, CaseOpened, SurveyDue, InboxItemCreated)

__all__ = ["ALL_EVENTS", "BeneficiaryRegistered", "CaseOpened", "InboxItemCreated", "SurveyDue"]

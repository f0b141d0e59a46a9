from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from casebridge_common.events.contracts.case import Programme
from casebridge_common.events.contracts.scoring import Administration
from scoring_service.domain.models import Instrument, ScheduleStatus


class SurveyScheduleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    case_id: UUID
    programme: Programme
    administration: Administration
    instrument: Instrument
    status: ScheduleStatus
    due_on: date
    created_at: datetime

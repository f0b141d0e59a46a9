from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from notification_service.domain.models import InboxKind


class InboxItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    office_id: str
    kind: InboxKind
    title: str
    case_id: UUID | None
    created_at: datetime
    read_at: datetime | None

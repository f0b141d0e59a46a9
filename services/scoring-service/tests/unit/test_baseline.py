import uuid
from datetime import UTC, date, datetime

import pytest

from casebridge_common.events.contracts.case import Programme
from casebridge_common.events.contracts.scoring import Administration
from scoring_service.domain.models import Instrument, ScheduleStatus, baseline_for

OPENED = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("programme", "instrument"),
    [(Programme.RETURN_REINTEGRATION, Instrument.RSS), (Programme.RESETTLEMENT_INTEGRATION, Instrument.INTEGRATION)],
)
def test_baseline_is_due_within_the_window_with_the_programmes_instrument(
    programme: Programme, instrument: Instrument
) -> None:
    schedule = baseline_for(
        case_id=uuid.uuid4(),
        owner_office_id="de-berlin",
        programme=programme,
        opened_at=OPENED,
        window_days=30,
        now=OPENED,
    )
    assert (schedule.administration, schedule.instrument, schedule.status) == (
        Administration.BASELINE,
        instrument,
        ScheduleStatus.DUE,
    )
    assert schedule.due_on == date(2026, 12, 31)

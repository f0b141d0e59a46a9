import uuid
from datetime import UTC, date, datetime

import pytest

from casebridge_common.events.contracts.case import Programme
from casebridge_common.events.contracts.scoring import Administration
from scoring_service.domain.models import CaseRecord, Instrument, add_months, follow_ups
from scoring_service.instruments import shipped

PLANS = {d.code: d.schedule for d in shipped()}
OPENED = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
CASE = CaseRecord(
    case_id=uuid.uuid4(), owner_office_id="de-berlin", programme=Programme.RETURN_REINTEGRATION, opened_at=OPENED
)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 12, 1), 3, date(2027, 3, 1)),
        (date(2027, 1, 31), 1, date(2027, 2, 28)),
        (date(2024, 11, 30), 3, date(2025, 2, 28)),
    ],
)
def test_add_months_keeps_the_day_or_takes_the_months_last(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


def test_after_a_baseline_a_repeat_and_the_intermediary_and_final_windows_fall_due() -> None:
    due = follow_ups(
        PLANS["rss"],
        case=CASE,
        instrument=Instrument.RSS,
        administered=Administration.BASELINE,
        administered_on=date(2026, 12, 10),
        existing={(Administration.BASELINE, date(2026, 12, 31))},
        open_repeat=False,
        now=OPENED,
    )
    assert [(s.administration, s.opens_on, s.due_on) for s in due] == [
        (Administration.REPEAT, None, date(2027, 3, 10)),
        (Administration.INTERMEDIARY, date(2027, 6, 1), date(2027, 9, 1)),
        (Administration.FINAL, date(2027, 12, 1), date(2028, 6, 1)),
    ]


def test_a_repeat_schedules_only_the_next_repeat_and_never_a_second_open_one() -> None:
    arguments = {
        "case": CASE,
        "instrument": Instrument.RSS,
        "administered": Administration.REPEAT,
        "administered_on": date(2027, 3, 5),
        "existing": {(Administration.INTERMEDIARY, date(2027, 9, 1))},
        "now": OPENED,
    }
    assert [(s.administration, s.due_on) for s in follow_ups(PLANS["rss"], open_repeat=False, **arguments)] == [
        (Administration.REPEAT, date(2027, 6, 5))
    ]
    assert follow_ups(PLANS["rss"], open_repeat=True, **arguments) == []


def test_the_integration_profile_repeats_every_six_months_and_domv_never() -> None:
    arguments = {
        "case": CASE,
        "administered": Administration.BASELINE,
        "administered_on": date(2026, 12, 1),
        "existing": set(),
        "open_repeat": False,
        "now": OPENED,
    }
    integration = follow_ups(PLANS["integration"], instrument=Instrument.INTEGRATION, **arguments)
    assert [(s.administration, s.due_on) for s in integration] == [(Administration.REPEAT, date(2027, 6, 1))]
    assert follow_ups(PLANS["domv"], instrument=Instrument.DOMV, **arguments) == []

"""Which openings a suspension of returns blocks (reintegration.md R46), and how it refuses them."""

import uuid

import pytest

from case_service.domain.return_suspensions import GUARD, guards_opening, returns_suspended
from case_service.domain.stages import Stage, opening_stage
from casebridge_common.events.contracts.case import ModeOfReturn, Programme


@pytest.mark.parametrize(
    ("programme", "mode", "blocked"),
    [
        (Programme.RETURN_REINTEGRATION, None, True),
        (Programme.RETURN_REINTEGRATION, ModeOfReturn.AVRR_VOLUNTARY, True),
        (Programme.RETURN_REINTEGRATION, ModeOfReturn.OTHER, True),
        (Programme.RETURN_REINTEGRATION, ModeOfReturn.FORCED_DEPORTED, False),  # opened on arrival: returned already
        (Programme.RETURN_REINTEGRATION, ModeOfReturn.SPONTANEOUS, False),
        (Programme.RESETTLEMENT_INTEGRATION, None, False),
    ],
)
def test_only_a_return_still_to_be_organised_is_blocked(
    programme: Programme, mode: ModeOfReturn | None, blocked: bool
) -> None:
    assert guards_opening(opening_stage(programme, mode)) is blocked


def test_no_later_stage_is_a_new_return() -> None:
    assert [s for s in Stage if guards_opening(s)] == [Stage.PRE_DEPARTURE_COUNSELLING]


def test_the_refusal_names_the_guard_the_country_and_the_suspension() -> None:
    suspension_id = uuid.uuid4()
    refusal = returns_suspended("SO", suspension_id)
    assert (refusal.status, refusal.code) == (409, "stage-guard-failed")
    assert refusal.context == {
        "guard": GUARD,
        "to_stage": Stage.PRE_DEPARTURE_COUNSELLING,
        "country": "SO",
        "suspension_id": suspension_id,
    }

"""The return profile of a case: what the request models accept, and the rules that need the case and the clock."""

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from pydantic import ValidationError

from case_service.domain.disclosure import SECTIONS, Section, redact
from case_service.domain.errors import ReturnDateInFuture, ReturnProfileNotApplicable
from case_service.domain.models import RETURN_PROFILE_FIELDS, check_return_profile
from case_service.schemas import OpenCase, UpdateCase
from casebridge_common.access import DataCategory
from casebridge_common.events.contracts.case import Programme

TODAY = date(2026, 12, 2)
PROFILE: dict[str, Any] = {
    "mode_of_return": "avrr_voluntary",
    "avrr_category": "visa_overstayer",
    "return_intended_duration": "permanent",
    "host_country": "DE",
    "length_of_absence_years": "4.5",
    "returned_on": "2026-11-20",
}


def test_a_case_can_be_opened_with_its_whole_return_profile() -> None:
    command = OpenCase.model_validate({"beneficiary_id": str(uuid4()), "programme": "return_reintegration", **PROFILE})
    assert command.length_of_absence_years == Decimal("4.5")
    assert command.returned_on == date(2026, 11, 20)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("mode_of_return", "voluntary"),
        ("avrr_category", "tourist"),
        ("return_intended_duration", "forever"),
        ("host_country", "de"),
        ("host_country", "DEU"),
        ("length_of_absence_years", -1),
        ("length_of_absence_years", "100.5"),
        ("length_of_absence_years", "4.55"),
        ("length_of_absence_years", "many"),
        ("returned_on", "20 November"),
    ],
)
def test_invalid_return_profile_values_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as refused:
        UpdateCase.model_validate({field: value})
    assert [e["loc"] for e in refused.value.errors()] == [(field,)]


def test_bounds_of_the_length_of_absence_are_accepted() -> None:
    assert UpdateCase.model_validate({"length_of_absence_years": 0}).length_of_absence_years == 0
    assert UpdateCase.model_validate({"length_of_absence_years": 100}).length_of_absence_years == 100


def test_a_date_of_return_today_is_accepted_and_tomorrow_refused() -> None:
    check_return_profile(Programme.RETURN_REINTEGRATION, {"returned_on": TODAY}, today=TODAY)
    with pytest.raises(ReturnDateInFuture):
        check_return_profile(Programme.RETURN_REINTEGRATION, {"returned_on": date(2026, 12, 3)}, today=TODAY)


def test_a_resettlement_case_refuses_any_return_profile_value_but_a_clearing_null() -> None:
    with pytest.raises(ReturnProfileNotApplicable) as refused:
        check_return_profile(
            Programme.RESETTLEMENT_INTEGRATION, {"mode_of_return": None, "host_country": "DE"}, today=TODAY
        )
    assert refused.value.context["pointer"] == "#/host_country"
    check_return_profile(Programme.RESETTLEMENT_INTEGRATION, {"mode_of_return": None}, today=TODAY)
    check_return_profile(Programme.RESETTLEMENT_INTEGRATION, {"assigned_worker": "anna"}, today=TODAY)


def test_every_return_profile_field_is_migration_history_and_withheld_without_it() -> None:
    case = SECTIONS[Section.CASE]
    assert {name: case.of(name) for name in RETURN_PROFILE_FIELDS} == dict.fromkeys(
        RETURN_PROFILE_FIELDS, frozenset({DataCategory.MIGRATION_HISTORY})
    )
    view = redact(Section.CASE, {"id": "c", "stage": "arrived", **PROFILE}, {DataCategory.CASE_NOTES})
    assert view.data == {"id": "c", "stage": "arrived"}
    assert view.withheld == {DataCategory.MIGRATION_HISTORY}

"""Keeping the newest monitoring profile of a case, and which new consent lets an excluded case back in."""

import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from casebridge_common.access import Party
from casebridge_common.events.contracts.case import AgeGroup, CaseMonitoringProfile, Programme
from casebridge_common.events.contracts.consent import ScopeTerms
from scoring_service.domain.monitoring import covers_analysis, merge_profile

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
CASE, BENEFICIARY = uuid.uuid4(), uuid.uuid4()
OWNER = Party(office_id="de-berlin", organisation_id="iom-germany")


def a_profile(version: int, **facts: object) -> CaseMonitoringProfile:
    return CaseMonitoringProfile.model_validate(
        {
            "case_id": CASE,
            "beneficiary_id": BENEFICIARY,
            "programme": Programme.RETURN_REINTEGRATION,
            "owner_office_id": "de-berlin",
            "owner_organisation_id": "iom-germany",
            "profile_version": version,
            "as_of": NOW,
            **facts,
        }
    )


def test_a_first_profile_is_kept_with_its_banded_facts() -> None:
    record = merge_profile(None, a_profile(1, sex="female", age_group="25-34", country_of_origin="SN"), now=NOW)
    assert record is not None
    assert (record.case_id, record.profile_version, record.sex, record.age_group, record.country_of_origin) == (
        CASE,
        1,
        "female",
        AgeGroup.ADULT_25_34.value,
        "SN",
    )


def test_a_newer_profile_replaces_the_facts_and_a_withdrawal_nulls_them() -> None:
    held = merge_profile(None, a_profile(1, sex="female", country_of_return="SN"), now=NOW)
    newer = merge_profile(held, a_profile(2), now=NOW)
    assert held is not None
    assert newer is held
    assert (held.profile_version, held.sex, held.country_of_return) == (2, None, None)


def test_an_older_or_repeated_profile_changes_nothing() -> None:
    held = merge_profile(None, a_profile(5), now=NOW)
    assert merge_profile(held, a_profile(5, sex="female"), now=NOW) is None
    assert merge_profile(held, a_profile(4, sex="female"), now=NOW) is None
    assert held is not None
    assert held.sex is None


def test_the_return_timeline_follows_the_newest_version_like_every_consented_fact() -> None:
    held = merge_profile(None, a_profile(3), now=NOW)
    assert merge_profile(held, a_profile(2, return_quarter="2026-Q4"), now=NOW) is None  # a late older copy
    assert held is not None
    assert held.return_quarter is None
    later = merge_profile(held, a_profile(4, return_quarter="2026-Q4", days_return_to_plan=-3), now=NOW)
    assert later is not None
    assert (later.profile_version, later.return_quarter, later.days_return_to_plan) == (4, "2026-Q4", -3)
    withdrawn = merge_profile(later, a_profile(5), now=NOW)  # M&E consent to migration history withdrawn
    assert withdrawn is not None
    assert (withdrawn.return_quarter, withdrawn.days_return_to_plan) == (None, None)


def test_only_an_m_and_e_scope_over_survey_data_naming_the_owner_readmits_a_case() -> None:
    def scope(purpose: str = "m_and_e", category: str = "scores", organisation: str = "iom-germany") -> ScopeTerms:
        return ScopeTerms.model_validate(
            {"data_categories": [category], "purposes": [purpose], "organisations": [organisation]}
        )

    assert covers_analysis([scope()], owner=OWNER)
    assert covers_analysis([scope(category="survey_responses")], owner=OWNER)
    assert not covers_analysis([scope(purpose="case_management")], owner=OWNER)
    assert not covers_analysis([scope(category="contact")], owner=OWNER)
    assert not covers_analysis([scope(organisation="cfp-dakar")], owner=OWNER)


def test_the_return_facts_are_kept_and_a_newer_quarter_of_return_replaces_the_held_one() -> None:
    facts = {"mode_of_return": "avrr_voluntary", "host_country": "DE", "length_of_absence": "6-10"}
    first = merge_profile(None, a_profile(1, **facts, return_quarter="2026-Q4", days_return_to_plan=12), now=NOW)
    assert first is not None
    assert (first.mode_of_return, first.host_country, first.length_of_absence, first.return_quarter) == (
        "avrr_voluntary",
        "DE",
        "6-10",
        "2026-Q4",
    )
    corrected = merge_profile(first, a_profile(2, **facts, return_quarter="2026-Q3", days_return_to_plan=40), now=NOW)
    assert corrected is not None
    assert (corrected.return_quarter, corrected.days_return_to_plan) == ("2026-Q3", 40)  # a corrected date of return


@pytest.mark.parametrize("label", ["2026-11-20", "2026-Q5", "26-Q1"])
def test_a_profile_carries_a_quarter_never_a_day(label: str) -> None:
    with pytest.raises(ValidationError):
        a_profile(1, return_quarter=label)

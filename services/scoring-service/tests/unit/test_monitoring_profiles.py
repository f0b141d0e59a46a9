"""Keeping the newest monitoring profile of a case, and which new consent lets an excluded case back in."""

import uuid
from datetime import UTC, date, datetime

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


def test_the_return_day_is_kept_once_learnt_whichever_version_brought_it() -> None:
    held = merge_profile(None, a_profile(3), now=NOW)
    assert merge_profile(held, a_profile(2, returned_on=date(2026, 11, 20)), now=NOW) is held  # late, still kept
    later = merge_profile(held, a_profile(4), now=NOW)  # case-service no longer tells it: not a change
    assert later is not None
    assert (later.profile_version, later.returned_on) == (4, date(2026, 11, 20))


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


def test_the_return_facts_are_kept_and_a_newer_date_of_return_replaces_the_held_one() -> None:
    first = merge_profile(
        None,
        a_profile(
            1, mode_of_return="avrr_voluntary", host_country="DE", length_of_absence="6-10", returned_on="2026-11-20"
        ),
        now=NOW,
    )
    assert first is not None
    assert (first.mode_of_return, first.host_country, first.length_of_absence, first.returned_on) == (
        "avrr_voluntary",
        "DE",
        "6-10",
        date(2026, 11, 20),
    )
    corrected = merge_profile(first, a_profile(2, returned_on="2026-11-18"), now=NOW)
    assert corrected is not None
    assert (corrected.mode_of_return, corrected.returned_on) == (None, date(2026, 11, 18))  # consent withdrawn
    kept = merge_profile(corrected, a_profile(3), now=NOW)  # an older producer after the arrival stage
    assert kept is not None
    assert kept.returned_on == date(2026, 11, 18)

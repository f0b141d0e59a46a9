import pytest

from casebridge_common.access import Party
from casebridge_common.events.contracts.consent import ScopeTerms
from scoring_service.domain.withdrawals import concerns_survey_data

OWNER = Party(office_id="de-berlin", organisation_id="iom-germany")


def scope(categories: list[str], purposes: list[str], **recipients: list[str]) -> ScopeTerms:
    return ScopeTerms.model_validate({"data_categories": categories, "purposes": purposes, **recipients})


@pytest.mark.parametrize(
    ("withdrawn", "concerns"),
    [
        (scope(["contact"], ["m_and_e"], offices=["de-berlin"]), True),  # analysis purpose, owner office
        (scope(["contact"], ["research"], organisations=["iom-germany"]), True),  # analysis purpose, owner org
        (scope(["scores"], ["case_management"], offices=["de-berlin"]), True),  # the survey data themselves
        (scope(["survey_responses"], ["aggregate_reporting"]), True),  # no recipient named: everyone
        (scope(["survey_responses"], ["research"], organisations=["uni-research"]), False),  # another holder
        (scope(["contact"], ["referral_service_delivery"], offices=["de-berlin"]), False),  # not about surveys
        (scope(["identity_biodata"], ["case_management"]), False),
    ],
)
def test_a_withdrawal_concerns_survey_data_only_for_analysis_or_survey_categories_of_the_owner(
    withdrawn: ScopeTerms, concerns: bool
) -> None:
    assert concerns_survey_data([withdrawn], owner=OWNER) is concerns


def test_one_concerning_scope_among_several_is_enough() -> None:
    unrelated = scope(["contact"], ["referral_service_delivery"], organisations=["cfp-dakar"])
    assert concerns_survey_data([unrelated, scope(["scores"], ["m_and_e"], offices=["de-berlin"])], owner=OWNER)
    assert not concerns_survey_data([], owner=OWNER)

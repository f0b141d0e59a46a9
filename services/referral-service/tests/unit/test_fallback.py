"""Choosing the fallback after a missed acknowledgement, and the pathway's required consent categories."""

from casebridge_common.access import DataCategory
from referral_service.domain.fallback import fallback_candidates, first_accepting, missing_categories

PATHWAY = ["a", "b", "c"]


def test_the_pathway_offers_the_services_after_the_current_destination_in_order() -> None:
    assert fallback_candidates(
        explicit=None, pathway_service_ids=PATHWAY, pathway_redirects=True, current_service_id="a", tried=[]
    ) == ["b", "c"]


def test_a_destination_off_the_pathway_falls_back_to_the_whole_pathway() -> None:
    assert fallback_candidates(
        explicit=None, pathway_service_ids=PATHWAY, pathway_redirects=True, current_service_id="x", tried=[]
    ) == ["a", "b", "c"]


def test_the_referrals_own_fallback_comes_first_and_nothing_is_offered_twice() -> None:
    assert fallback_candidates(
        explicit="c", pathway_service_ids=PATHWAY, pathway_redirects=True, current_service_id="a", tried=[]
    ) == ["c", "b"]


def test_a_pathway_that_does_not_redirect_offers_only_the_referrals_own_fallback() -> None:
    assert (
        fallback_candidates(
            explicit=None, pathway_service_ids=PATHWAY, pathway_redirects=False, current_service_id="a", tried=[]
        )
        == []
    )
    assert fallback_candidates(
        explicit="z", pathway_service_ids=PATHWAY, pathway_redirects=False, current_service_id="a", tried=[]
    ) == ["z"]


def test_services_the_chain_of_redirects_tried_are_never_offered_again() -> None:
    assert fallback_candidates(
        explicit="a", pathway_service_ids=PATHWAY, pathway_redirects=True, current_service_id="b", tried=["a", "b"]
    ) == ["c"]
    assert fallback_candidates(
        explicit=None, pathway_service_ids=PATHWAY, pathway_redirects=True, current_service_id="a", tried=["a"]
    ) == ["b", "c"]


def test_the_first_candidate_accepting_referrals_is_chosen() -> None:
    assert first_accepting(["b", "c"], {"b": False, "c": True}) == "c"
    assert first_accepting(["b", "unknown"], {"b": False}) is None


def test_missing_categories_are_the_required_ones_the_manifest_lacks() -> None:
    required = ["contact", DataCategory.HEALTH_CLINICAL]
    assert missing_categories(required, [DataCategory.CONTACT]) == [DataCategory.HEALTH_CLINICAL]
    assert missing_categories(required, ["health_clinical", "contact", "location"]) == []
    assert missing_categories([], []) == []

from dataclasses import replace

import pytest

from referral_service.domain.pathways import Candidate, Person, is_eligible, rank

BASE = Candidate(
    service_id="a",
    minimum_age=None,
    maximum_age=None,
    eligible_sexes=(),
    target_groups=(),
    languages=("fr", "wo"),
    accepting_referrals=True,
    distance_km=None,
    completion_rate=None,
    pathway_step=None,
)


@pytest.mark.parametrize(
    ("candidate", "person", "eligible"),
    [
        (BASE, Person(), True),
        (replace(BASE, minimum_age=18), Person(age=17), False),
        (replace(BASE, minimum_age=18), Person(), True),  # an unknown age never excludes
        (replace(BASE, maximum_age=45), Person(age=46), False),
        (replace(BASE, eligible_sexes=("female",)), Person(sex="male"), False),
        (replace(BASE, eligible_sexes=("female",)), Person(sex="female"), True),
        (replace(BASE, target_groups=("victims_of_trafficking",)), Person(vulnerability="children"), False),
        (replace(BASE, target_groups=()), Person(vulnerability="children"), True),
    ],
)
def test_eligibility_follows_the_service_rules(candidate: Candidate, person: Person, eligible: bool) -> None:
    assert is_eligible(candidate, person) is eligible


def test_ranking_puts_eligibility_then_capacity_then_the_pathway_order_first() -> None:
    first_choice_full = replace(BASE, service_id="first", pathway_step=0, accepting_referrals=False)
    fallback = replace(BASE, service_id="fallback", pathway_step=1)
    off_pathway_near = replace(BASE, service_id="near", distance_km=1.0, completion_rate=1.0)
    too_young = replace(BASE, service_id="adults", minimum_age=18, pathway_step=0)
    ranked = rank([first_choice_full, off_pathway_near, too_young, fallback], Person(age=16))
    assert [s.candidate.service_id for s in ranked] == ["fallback", "near", "first", "adults"]
    assert [s.rank for s in ranked] == [1, 2, 3, 4]
    assert ranked[0].reasons == ("eligible", "accepting-referrals", "pathway-fallback", "speaks-language")
    assert ranked[-1].eligible is False


def test_language_then_distance_then_completion_rate_break_ties() -> None:
    far_french = replace(BASE, service_id="far", distance_km=30.0)
    near_english = replace(BASE, service_id="english", distance_km=2.0, languages=("en",))
    near_french = replace(BASE, service_id="near", distance_km=3.0, completion_rate=0.2)
    also_near = replace(BASE, service_id="also", distance_km=3.0, completion_rate=0.9)
    ranked = rank([far_french, near_english, near_french, also_near], Person(language="fr"))
    assert [s.candidate.service_id for s in ranked] == ["also", "near", "far", "english"]
    assert ranked[-1].speaks_language is False

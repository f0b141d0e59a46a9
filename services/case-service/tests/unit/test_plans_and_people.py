from datetime import date

from case_service.domain.assessments import grant_total, next_version, plan_diff
from case_service.domain.models import is_minor


def test_plan_diff_lists_every_changed_leaf_by_pointer() -> None:
    before = {"place_of_return": "Thiès", "immediate_assistance": {"cash_assistance": False, "medical": True}, "x": [1]}
    after = {"place_of_return": "Dakar", "immediate_assistance": {"cash_assistance": True, "medical": True}, "y": 2}
    assert plan_diff(before, after) == [
        ("/immediate_assistance/cash_assistance", False, True),
        ("/place_of_return", "Thiès", "Dakar"),
        ("/x", [1], None),
        ("/y", None, 2),
    ]
    assert plan_diff(after, after) == []


def test_versions_start_at_one_and_count_up() -> None:
    assert (next_version(None), next_version(3)) == (1, 4)


def test_grant_total_is_rounded_to_cents() -> None:
    assert grant_total([0.1, 0.2]) == 0.3
    assert grant_total([]) == 0


def test_a_person_is_a_minor_until_the_eighteenth_birthday() -> None:
    assert is_minor(date(2008, 6, 1), date(2026, 5, 31))
    assert not is_minor(date(2008, 6, 1), date(2026, 6, 1))
    assert is_minor(date(2008, 2, 29), date(2026, 2, 28))
    assert not is_minor(date(2008, 2, 29), date(2026, 3, 1))

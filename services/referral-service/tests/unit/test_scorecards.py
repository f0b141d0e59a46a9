from referral_service.domain.scorecards import ScorecardCounts, scorecard


def counts(**overrides: int) -> ScorecardCounts:
    base = {
        "sent": 0,
        "acknowledged": 0,
        "accepted": 0,
        "declined": 0,
        "completed": 0,
        "acknowledge_deadlines_missed": 0,
        "outcome_deadlines_missed": 0,
    }
    return ScorecardCounts(**(base | overrides), median_hours_to_acknowledge=None, median_days_to_complete=None)


def test_rates_are_unknown_without_referrals() -> None:
    card = scorecard(counts())
    assert (card.acknowledgement_rate, card.acceptance_rate, card.completion_rate) == (None, None, None)
    assert card.on_time_acknowledgement_rate is None


def test_rates_divide_by_the_step_before() -> None:
    card = scorecard(
        counts(sent=4, acknowledged=3, accepted=2, declined=1, completed=1, acknowledge_deadlines_missed=1)
    )
    assert card.acknowledgement_rate == 0.75
    assert card.acceptance_rate == 0.6667
    assert card.completion_rate == 0.5
    assert card.on_time_acknowledgement_rate == 0.75

"""Every (status, action) pair of the referral lifecycle: legal ones move, illegal ones are 409 naming the move."""

import pytest

from referral_service.domain.errors import IllegalTransition
from referral_service.domain.lifecycle import (
    OPEN,
    RULES,
    TERMINAL,
    Action,
    ReferralStatus,
    Side,
    allowed_actions,
    next_status,
)

S, A = ReferralStatus, Action
LEGAL = {
    (S.DRAFT, A.SEND): S.REQUESTED,
    (S.REQUESTED, A.ACKNOWLEDGE): S.RECEIVED,
    (S.RECEIVED, A.ACCEPT): S.ACCEPTED,
    (S.RECEIVED, A.DECLINE): S.REJECTED,
    (S.ACCEPTED, A.START): S.IN_PROGRESS,
    (S.IN_PROGRESS, A.COMPLETE): S.COMPLETED,
    (S.DRAFT, A.CANCEL): S.CANCELLED,
    (S.REQUESTED, A.CANCEL): S.CANCELLED,
    (S.RECEIVED, A.CANCEL): S.CANCELLED,
    (S.ACCEPTED, A.CANCEL): S.CANCELLED,
    (S.IN_PROGRESS, A.CANCEL): S.CANCELLED,
    (S.REQUESTED, A.EXPIRE): S.EXPIRED,
    (S.RECEIVED, A.EXPIRE): S.EXPIRED,
    (S.REQUESTED, A.REDIRECT): S.EXPIRED,
    (S.DRAFT, A.REFRESH_PREVIEW): S.DRAFT,
    (S.REQUESTED, A.WITHDRAW_CONSENT): S.CONSENT_WITHDRAWN,
    (S.RECEIVED, A.WITHDRAW_CONSENT): S.CONSENT_WITHDRAWN,
    (S.ACCEPTED, A.WITHDRAW_CONSENT): S.CONSENT_WITHDRAWN,
    (S.IN_PROGRESS, A.WITHDRAW_CONSENT): S.CONSENT_WITHDRAWN,
}
ALL_PAIRS = [(status, action) for status in S for action in A]


@pytest.mark.parametrize(("status", "action"), [p for p in ALL_PAIRS if p in LEGAL])
def test_a_legal_transition_reaches_its_target(status: ReferralStatus, action: Action) -> None:
    assert next_status(status, action) == LEGAL[(status, action)]


@pytest.mark.parametrize(("status", "action"), [p for p in ALL_PAIRS if p not in LEGAL])
def test_an_illegal_transition_is_a_conflict_naming_the_transition(status: ReferralStatus, action: Action) -> None:
    with pytest.raises(IllegalTransition) as refused:
        next_status(status, action)
    assert refused.value.status == 409
    assert refused.value.code == "illegal-referral-transition"
    assert (refused.value.context["action"], refused.value.context["from_status"]) == (str(action), str(status))


@pytest.mark.parametrize("status", sorted(TERMINAL))
def test_nothing_leaves_a_terminal_status(status: ReferralStatus) -> None:
    assert all(allowed_actions(status, side) == [] for side in Side)


def test_only_the_destination_works_the_referral_and_only_the_sender_sends_or_cancels() -> None:
    assert {a for a, r in RULES.items() if r.side == Side.DESTINATION} == {
        A.ACKNOWLEDGE,
        A.ACCEPT,
        A.DECLINE,
        A.START,
        A.COMPLETE,
    }
    assert {a for a, r in RULES.items() if r.side == Side.SENDER} == {A.SEND, A.CANCEL, A.REFRESH_PREVIEW}
    assert allowed_actions(S.RECEIVED, Side.DESTINATION) == [A.ACCEPT, A.DECLINE]


def test_a_withdrawn_consent_ends_every_open_referral_but_never_a_draft_or_a_finished_one() -> None:
    assert RULES[A.WITHDRAW_CONSENT].side == Side.SYSTEM
    assert RULES[A.WITHDRAW_CONSENT].sources == OPEN
    assert S.CONSENT_WITHDRAWN in TERMINAL

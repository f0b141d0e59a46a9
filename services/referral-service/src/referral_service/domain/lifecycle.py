"""The referral lifecycle, named after the FHIR Task statuses (referrals.md §6.5). Pure: no I/O, no clock."""

from dataclasses import dataclass
from enum import StrEnum

from referral_service.domain.errors import IllegalTransition


class ReferralStatus(StrEnum):
    DRAFT = "draft"
    REQUESTED = "requested"  # sent to the destination
    RECEIVED = "received"  # acknowledged by the destination
    ACCEPTED = "accepted"
    REJECTED = "rejected"  # declined by the destination, with a reason
    IN_PROGRESS = "in_progress"  # first contact made, service under way
    COMPLETED = "completed"  # outcome and feedback reported to the referring office
    CANCELLED = "cancelled"  # withdrawn by the referring office
    EXPIRED = "expired"  # neither accepted nor declined within the expiry window
    CONSENT_WITHDRAWN = "consent_withdrawn"  # the consent behind it was withdrawn (data-protection.md §2.4)


class Action(StrEnum):
    SEND = "send"
    ACKNOWLEDGE = "acknowledge"
    ACCEPT = "accept"
    DECLINE = "decline"
    START = "start"
    COMPLETE = "complete"
    CANCEL = "cancel"
    EXPIRE = "expire"
    REDIRECT = "redirect"
    REFRESH_PREVIEW = "refresh_preview"
    WITHDRAW_CONSENT = "withdraw_consent"


class Side(StrEnum):
    """Who may perform an action: the referring office, the destination, or the worker's timers."""

    SENDER = "sender"
    DESTINATION = "destination"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Rule:
    side: Side
    sources: frozenset[ReferralStatus]
    target: ReferralStatus


S = ReferralStatus
RULES: dict[Action, Rule] = {
    Action.SEND: Rule(Side.SENDER, frozenset({S.DRAFT}), S.REQUESTED),
    Action.ACKNOWLEDGE: Rule(Side.DESTINATION, frozenset({S.REQUESTED}), S.RECEIVED),
    Action.ACCEPT: Rule(Side.DESTINATION, frozenset({S.RECEIVED}), S.ACCEPTED),
    Action.DECLINE: Rule(Side.DESTINATION, frozenset({S.RECEIVED}), S.REJECTED),
    Action.START: Rule(Side.DESTINATION, frozenset({S.ACCEPTED}), S.IN_PROGRESS),
    Action.COMPLETE: Rule(Side.DESTINATION, frozenset({S.IN_PROGRESS}), S.COMPLETED),
    # "any pre-delivery → cancelled" (referrals.md §6.1)
    Action.CANCEL: Rule(
        Side.SENDER, frozenset({S.DRAFT, S.REQUESTED, S.RECEIVED, S.ACCEPTED, S.IN_PROGRESS}), S.CANCELLED
    ),
    Action.EXPIRE: Rule(Side.SYSTEM, frozenset({S.REQUESTED, S.RECEIVED}), S.EXPIRED),
    # "OVERDUE → REDIRECTED (new Referral)" (referrals.md §6): the unacknowledged referral ends as expired, with
    # `redirected_to_referral_id` naming the referral to the fallback that replaces it
    Action.REDIRECT: Rule(Side.SYSTEM, frozenset({S.REQUESTED}), S.EXPIRED),
    # the sender rebuilds a draft's snapshot under the consents in force now: what it sees is what send stores
    Action.REFRESH_PREVIEW: Rule(Side.SENDER, frozenset({S.DRAFT}), S.DRAFT),
    # "any active → consent withdrawn" (referrals.md §6.1): always allowed, driven by the consent event
    Action.WITHDRAW_CONSENT: Rule(
        Side.SYSTEM, frozenset({S.REQUESTED, S.RECEIVED, S.ACCEPTED, S.IN_PROGRESS}), S.CONSENT_WITHDRAWN
    ),
}
TERMINAL = frozenset({S.REJECTED, S.COMPLETED, S.CANCELLED, S.EXPIRED, S.CONSENT_WITHDRAWN})
OPEN = frozenset({S.REQUESTED, S.RECEIVED, S.ACCEPTED, S.IN_PROGRESS})


def next_status(current: ReferralStatus, action: Action) -> ReferralStatus:
    """The status after `action`, or IllegalTransition (409) naming the transition that was refused."""
    rule = RULES[action]
    if current not in rule.sources:
        raise IllegalTransition(
            f"Transition '{action}' is not allowed from status '{current}'.",
            action=str(action),
            from_status=str(current),
            allowed_from=sorted(str(s) for s in rule.sources),
        )
    return rule.target


def allowed_actions(current: ReferralStatus, side: Side) -> list[Action]:
    return [action for action, rule in RULES.items() if rule.side == side and current in rule.sources]

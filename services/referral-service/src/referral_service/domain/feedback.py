"""R-C2: a provider returns more than the referral's status (an outcome summary, feedback, a decline note) only
under the beneficiary's separate consent for `provider_feedback` to the referring office. Pure."""

from datetime import datetime

from casebridge_common.access import CaseFacts, DataCategory, Decision, Party, Purpose, Reason, consent_for


def feedback_consent(case: CaseFacts, referrer: Party, *, now: datetime) -> Decision:
    """The consent that lets the provider write back to `referrer`, or why there is none. Any category named
    for `provider_feedback` will do: the feedback is about the service delivered, not a category of the file."""
    refused = Decision(False, Reason.NO_CONSENT)
    for category in DataCategory:
        decision = consent_for(case, category, Purpose.PROVIDER_FEEDBACK, referrer, now=now)
        if decision.allowed:
            return decision
        # the category a consent would cover says more (a guardian missing) than the ones it does not name
        if refused.reason in {Reason.NO_CONSENT, Reason.CONSENT_NOT_COVERING}:
            refused = decision
    return refused

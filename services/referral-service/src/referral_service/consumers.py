"""Kafka handlers of referral-service. Each claims the event id in the same transaction as its effects."""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from casebridge_common.db import utc_now
from casebridge_common.events.contracts.case import BeneficiaryErased, CaseClosed, CaseOpened, CaseTransferred
from casebridge_common.events.contracts.consent import ConsentGiven, ConsentWithdrawn
from casebridge_common.events.envelope import Event
from casebridge_common.inbox import exactly_once
from casebridge_common.kafka import Handler
from referral_service.service_layer import cases, consents
from referral_service.unit_of_work import ReferralUnitOfWork

E = TypeVar("E", bound=Event)


def _once(
    consumer: str, contract: type[E], apply: Callable[[ReferralUnitOfWork, E], Awaitable[object]]
) -> Handler[ReferralUnitOfWork]:
    """:func:`exactly_once` for this service's unit of work."""
    return exactly_once(consumer, contract, apply)


# Learn which office owns the case, whose beneficiary it is, and whether they are a minor.
on_case_opened = _once("referral-service.on_case_opened", CaseOpened, cases.project_opened_case)
# Flag the case's open referrals; they are not cancelled.
on_case_closed = _once(
    "referral-service.on_case_closed",
    CaseClosed,
    lambda uow, closed: cases.flag_case_closed(uow, closed, now=utc_now()),
)
# The case's referrals follow the new owner office.
on_case_transferred = _once(
    "referral-service.on_case_transferred",
    CaseTransferred,
    lambda uow, transferred: cases.follow_transfer(uow, transferred, now=utc_now()),
)
# Purge the snapshots, ledger details and consents of the erased beneficiary's cases.
on_beneficiary_erased = _once(
    "referral-service.on_beneficiary_erased",
    BeneficiaryErased,
    lambda uow, erasure: cases.erase_beneficiary(uow, erasure, now=utc_now()),
)
# Project the consent, so referral-service can run the access policy for a disclosure locally.
on_consent_given = _once(
    "referral-service.on_consent_given",
    ConsentGiven,
    lambda uow, given: consents.project_consent_given(uow, given, now=utc_now()),
)
# Redact the copies the withdrawal covers and acknowledge it, in one transaction with the claim: a redelivery
# neither redacts twice nor acknowledges twice.
on_consent_withdrawn = _once(
    "referral-service.on_consent_withdrawn",
    ConsentWithdrawn,
    lambda uow, withdrawn: consents.apply_withdrawal(uow, withdrawn, now=utc_now()),
)


HANDLERS: dict[str, Handler[ReferralUnitOfWork]] = {
    CaseOpened.type: on_case_opened,
    CaseClosed.type: on_case_closed,
    CaseTransferred.type: on_case_transferred,
    BeneficiaryErased.type: on_beneficiary_erased,
    ConsentGiven.type: on_consent_given,
    ConsentWithdrawn.type: on_consent_withdrawn,
}
CONSUMED_TOPICS = sorted({CaseOpened.topic, BeneficiaryErased.topic, ConsentGiven.topic})

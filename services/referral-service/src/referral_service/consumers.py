"""Kafka handlers of referral-service. Each claims the event id in the same transaction as its effects."""

from casebridge_common.db import utc_now
from casebridge_common.events.contracts.case import BeneficiaryErased, CaseClosed, CaseOpened, CaseTransferred
from casebridge_common.events.contracts.consent import ConsentGiven, ConsentWithdrawn
from casebridge_common.events.envelope import CloudEvent
from casebridge_common.kafka import Handler
from referral_service.service_layer import cases, consents
from referral_service.unit_of_work import ReferralUnitOfWork


async def on_case_opened(event: CloudEvent, uow: ReferralUnitOfWork) -> None:
    """Learn which office owns the case, whose beneficiary it is, and whether they are a minor."""
    opened = CaseOpened.model_validate(event.data)
    async with uow:
        if not await uow.inbox.claim(consumer="referral-service.on_case_opened", event_id=event.id):
            return  # a redelivery: the first delivery's effects are committed
        await cases.project_opened_case(uow, opened)
        await uow.commit()


async def on_case_closed(event: CloudEvent, uow: ReferralUnitOfWork) -> None:
    """Flag the case's open referrals; they are not cancelled."""
    closed = CaseClosed.model_validate(event.data)
    async with uow:
        if not await uow.inbox.claim(consumer="referral-service.on_case_closed", event_id=event.id):
            return
        await cases.flag_case_closed(uow, closed, now=utc_now())
        await uow.commit()


async def on_case_transferred(event: CloudEvent, uow: ReferralUnitOfWork) -> None:
    """The case's referrals follow the new owner office."""
    transferred = CaseTransferred.model_validate(event.data)
    async with uow:
        if not await uow.inbox.claim(consumer="referral-service.on_case_transferred", event_id=event.id):
            return
        await cases.follow_transfer(uow, transferred, now=utc_now())
        await uow.commit()


async def on_beneficiary_erased(event: CloudEvent, uow: ReferralUnitOfWork) -> None:
    """Purge the snapshots, ledger details and consents of the erased beneficiary's cases."""
    erasure = BeneficiaryErased.model_validate(event.data)
    async with uow:
        if not await uow.inbox.claim(consumer="referral-service.on_beneficiary_erased", event_id=event.id):
            return
        await cases.erase_beneficiary(uow, erasure, now=utc_now())
        await uow.commit()


async def on_consent_given(event: CloudEvent, uow: ReferralUnitOfWork) -> None:
    """Project the consent, so referral-service can run the access policy for a disclosure locally."""
    given = ConsentGiven.model_validate(event.data)
    async with uow:
        if not await uow.inbox.claim(consumer="referral-service.on_consent_given", event_id=event.id):
            return
        await consents.project_consent_given(uow, given, now=utc_now())
        await uow.commit()


async def on_consent_withdrawn(event: CloudEvent, uow: ReferralUnitOfWork) -> None:
    """Redact the copies the withdrawal covers and acknowledge it, in one transaction with the inbox claim:
    a redelivery neither redacts twice nor acknowledges twice."""
    withdrawn = ConsentWithdrawn.model_validate(event.data)
    async with uow:
        if not await uow.inbox.claim(consumer="referral-service.on_consent_withdrawn", event_id=event.id):
            return
        await consents.apply_withdrawal(uow, withdrawn, now=utc_now())
        await uow.commit()


HANDLERS: dict[str, Handler[ReferralUnitOfWork]] = {
    CaseOpened.type: on_case_opened,
    CaseClosed.type: on_case_closed,
    CaseTransferred.type: on_case_transferred,
    BeneficiaryErased.type: on_beneficiary_erased,
    ConsentGiven.type: on_consent_given,
    ConsentWithdrawn.type: on_consent_withdrawn,
}
CONSUMED_TOPICS = sorted({CaseOpened.topic, BeneficiaryErased.topic, ConsentGiven.topic})

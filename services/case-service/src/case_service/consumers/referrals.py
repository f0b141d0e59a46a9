"""Referral links: a sent referral makes its destination a reader of the case (bounded by consent) until the
referral is closed. Each handler claims the event id in the same transaction as its effect."""

from case_service.service_layer.referral_links import record_referral_link
from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.events.contracts.referral import (
    ReferralAccepted,
    ReferralAcknowledged,
    ReferralCancelled,
    ReferralCompleted,
    ReferralConsentWithdrawn,
    ReferralDeclined,
    ReferralEvent,
    ReferralExpired,
    ReferralSent,
    ReferralStarted,
)
from casebridge_common.events.envelope import CloudEvent
from casebridge_common.kafka import Handler

CONSUMER = "case-service.on_referral_event"

# Sent, acknowledged, accepted and started keep the destination a reader; every closing event ends that.
OPENING: dict[str, type[ReferralEvent]] = {
    e.type: e for e in (ReferralSent, ReferralAcknowledged, ReferralAccepted, ReferralStarted)
}
CLOSING: dict[str, type[ReferralEvent]] = {
    e.type: e
    for e in (ReferralCompleted, ReferralCancelled, ReferralDeclined, ReferralExpired, ReferralConsentWithdrawn)
}


async def on_referral_event(event: CloudEvent, uow: CaseUnitOfWork) -> None:
    contract = OPENING.get(event.type) or CLOSING[event.type]
    referral = contract.model_validate(event.data)
    async with uow:
        if not await uow.inbox.claim(consumer=CONSUMER, event_id=event.id):
            return  # a redelivery: the first delivery's effect is committed
        await record_referral_link(uow, referral, active=event.type in OPENING, at=event.time)
        await uow.commit()


HANDLERS: dict[str, Handler[CaseUnitOfWork]] = dict.fromkeys([*OPENING, *CLOSING], on_referral_event)
TOPIC = ReferralSent.topic

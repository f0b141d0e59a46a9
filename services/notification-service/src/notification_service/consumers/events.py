"""Kafka handlers. One generic handler per consumed event type: inbox rules, then webhook fan-out, in one
transaction with the claim of the event id, so a redelivery changes nothing and a crash loses nothing.

Consent withdrawals and erasures have handlers of their own: they change stored copies, are never rules' input
and are never fanned out to webhooks. A withdrawal's overdue receipt is rules' input but never fanned out either."""

from casebridge_common.db import utc_now
from casebridge_common.events.contracts.case import BeneficiaryErased
from casebridge_common.events.contracts.consent import ConsentWithdrawalReceiptOverdue, ConsentWithdrawn
from casebridge_common.events.envelope import CloudEvent
from casebridge_common.kafka import Handler
from notification_service.service_layer import inbox, subscriptions, withdrawals
from notification_service.service_layer.catalogue import CONSUMED_TOPICS as TOPICS
from notification_service.service_layer.catalogue import SUBSCRIBABLE
from notification_service.unit_of_work import NotificationUnitOfWork

CONSUMER = "notification-service.on_event"


async def on_event(event: CloudEvent, uow: NotificationUnitOfWork) -> None:
    async with uow:
        if not await uow.inbox.claim(consumer=CONSUMER, event_id=event.id):
            return  # a redelivery: the first delivery's effects are committed
        now = utc_now()
        await inbox.apply_rules(uow, event.type, event.data, event_id=event.id, now=now)
        await subscriptions.fan_out(uow, event, now=now)
        await uow.commit()


async def on_consent_withdrawn(event: CloudEvent, uow: NotificationUnitOfWork) -> None:
    withdrawn = ConsentWithdrawn.model_validate(event.data)
    async with uow:
        if not await uow.inbox.claim(consumer="notification-service.on_consent_withdrawn", event_id=event.id):
            return  # one redaction and one acknowledgement per event, however often it is delivered
        await withdrawals.redact_copies(uow, withdrawn, now=utc_now())
        await uow.commit()


async def on_withdrawal_receipt_overdue(event: CloudEvent, uow: NotificationUnitOfWork) -> None:
    """The rules only: a consent event is never offered to webhooks."""
    async with uow:
        if not await uow.inbox.claim(consumer="notification-service.on_withdrawal_receipt_overdue", event_id=event.id):
            return
        await inbox.apply_rules(uow, event.type, event.data, event_id=event.id, now=utc_now())
        await uow.commit()


async def on_beneficiary_erased(event: CloudEvent, uow: NotificationUnitOfWork) -> None:
    erased = BeneficiaryErased.model_validate(event.data)
    async with uow:
        if not await uow.inbox.claim(consumer="notification-service.on_beneficiary_erased", event_id=event.id):
            return
        await withdrawals.purge_copies(uow, erased, now=utc_now())
        await uow.commit()


HANDLERS: dict[str, Handler[NotificationUnitOfWork]] = {
    **dict.fromkeys(SUBSCRIBABLE, on_event),
    ConsentWithdrawn.type: on_consent_withdrawn,
    ConsentWithdrawalReceiptOverdue.type: on_withdrawal_receipt_overdue,
    BeneficiaryErased.type: on_beneficiary_erased,
}
CONSUMED_TOPICS = sorted({*TOPICS, ConsentWithdrawn.topic, BeneficiaryErased.topic})

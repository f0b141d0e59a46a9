"""Consent withdrawal and erasure as they reach notification-service's stored copies.

Inbox items, mails, texts and webhook deliveries are derived copies of case facts, made for their addressees under
the consent in force when the event was consumed. This service does not hold the consent terms still in force, so
it cannot re-decide each copy; it redacts every copy about the beneficiary's cases, the direction that cannot
disclose too much. Nothing is lost for case work: an item keeps its kind and case id, and the case itself is read
in case-service under the current consent.
"""

from datetime import datetime
from uuid import UUID

from casebridge_common.audit import AuditAction
from casebridge_common.auth import Principal
from casebridge_common.events.contracts.case import BeneficiaryErased
from casebridge_common.events.contracts.consent import ConsentWithdrawalAcknowledged, ConsentWithdrawn
from notification_service.domain.models import (
    BeneficiaryErasure,
    DeliveryStatus,
    MailStatus,
    WithdrawalReceipt,
)
from notification_service.domain.redaction import ERASED_TEXT, WITHDRAWN_TEXT, redacted_envelope
from notification_service.unit_of_work import NotificationUnitOfWork

HOLDER = "notification-service"
# The audit trail names the service itself when it acts on an event rather than on a request.
SERVICE_ACTOR = Principal(
    subject=HOLDER,
    client_id=HOLDER,
    organisation_id=None,
    office_id=None,
    country=None,
    scopes=frozenset(),
    roles=frozenset(),
)


async def redact_copies(
    uow: NotificationUnitOfWork, withdrawn: ConsentWithdrawn, *, now: datetime
) -> WithdrawalReceipt:
    """Redact every stored copy about the beneficiary's cases; mails, texts and webhook deliveries still waiting
    are stopped (`withheld`). Records what was done and emits `consent.withdrawal_acknowledged`, also when
    nothing was held: the compliance view counts every holder's receipt."""
    receipt = await uow.receipts.get(withdrawn.withdrawal_id)
    if receipt is None:
        receipt = await _redact(uow, withdrawn, now=now)
    # Sent again for a withdrawal re-announced under a new event id: case-service keeps one receipt per holder.
    uow.outbox.emit(
        ConsentWithdrawalAcknowledged.of(
            withdrawn, holder=HOLDER, purged=receipt.purged, redacted=receipt.redacted, at=now
        )
    )
    return receipt


async def _lock_addressees(uow: NotificationUnitOfWork, case_ids: list[UUID]) -> None:
    for key in await uow.inbox_items.addressees_of_cases(case_ids):  # sorted: no crosswise waits
        await uow.inbox_items.lock_addressee(key)


async def _redact(uow: NotificationUnitOfWork, withdrawn: ConsentWithdrawn, *, now: datetime) -> WithdrawalReceipt:
    case_ids = sorted(set(withdrawn.case_ids))
    # Deliveries before inbox addressees: the dispatcher takes its locks in that order too.
    deliveries = await uow.deliveries.about(case_ids, withdrawn.beneficiary_id)
    await _lock_addressees(uow, case_ids)
    items = await uow.inbox_items.redact_for_cases(case_ids, title=WITHDRAWN_TEXT, now=now)
    item_ids = await uow.inbox_items.ids_for_cases(case_ids)
    withheld = 0
    mails = await uow.mails.unredacted_for_items(item_ids)
    for mail in mails:
        if mail.status is MailStatus.PENDING:
            mail.status, withheld = MailStatus.WITHHELD, withheld + 1
        mail.subject, mail.text_body, mail.html_body, mail.redacted_at = WITHDRAWN_TEXT, WITHDRAWN_TEXT, "", now
    texts = await uow.texts.unredacted_for_items(item_ids)
    for text in texts:
        if text.status is MailStatus.PENDING:
            text.status, withheld = MailStatus.WITHHELD, withheld + 1
        text.text, text.redacted_at = WITHDRAWN_TEXT, now
    for delivery in deliveries:
        if delivery.status is DeliveryStatus.PENDING:
            delivery.status, withheld = DeliveryStatus.WITHHELD, withheld + 1
        delivery.event, delivery.redacted_at = redacted_envelope(delivery.event), now
    for case_id in case_ids:
        uow.audit.record(
            SERVICE_ACTOR,
            AuditAction.UPDATE,
            resource_type="case",
            resource_id=case_id,
            purpose="consent_withdrawal",
            basis=withdrawn.withdrawal_id,
            case_id=case_id,
        )
    receipt = WithdrawalReceipt(
        withdrawal_id=withdrawn.withdrawal_id,
        consent_id=withdrawn.consent_id,
        beneficiary_id=withdrawn.beneficiary_id,
        kind=withdrawn.kind,
        case_ids=case_ids,
        withheld=withheld,
        purged=0,
        redacted=len(items) + len(mails) + len(texts) + len(deliveries),
        acknowledged_at=now,
    )
    uow.receipts.add(receipt)
    return receipt


async def purge_copies(uow: NotificationUnitOfWork, erased: BeneficiaryErased, *, now: datetime) -> BeneficiaryErasure:
    """Delete the mails, texts and webhook deliveries about the beneficiary's cases. Inbox items stay as archived
    tombstones without their titles: deleting them would leave mobile clients, which sync by change number, with
    their old copies."""
    if (done := await uow.erasures.get(erased.beneficiary_id)) is not None:
        return done  # erased before, under another event id
    case_ids = sorted(set(erased.case_ids))
    purged = await uow.deliveries.purge_about(case_ids, erased.beneficiary_id)  # locks in the dispatcher's order
    await _lock_addressees(uow, case_ids)
    item_ids = await uow.inbox_items.ids_for_cases(case_ids)
    purged += await uow.mails.purge_for_items(item_ids) + await uow.texts.purge_for_items(item_ids)
    items = await uow.inbox_items.redact_for_cases(case_ids, title=ERASED_TEXT, now=now, erase=True)
    for case_id in case_ids:
        uow.audit.record(
            SERVICE_ACTOR,
            AuditAction.ERASE,
            resource_type="case",
            resource_id=case_id,
            purpose="erasure",
            case_id=case_id,
        )
    erasure = BeneficiaryErasure(
        beneficiary_id=erased.beneficiary_id,
        case_ids=case_ids,
        purged=purged,
        redacted=len(items),
        erased_at=erased.erased_at,
        processed_at=now,
    )
    uow.erasures.add(erasure)
    return erasure

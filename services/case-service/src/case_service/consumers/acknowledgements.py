"""Holders' acknowledgements of a consent withdrawal (`casebridge.consent.acknowledgements.v1`)."""

import logging

from case_service.service_layer.consent import record_acknowledgement
from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.events.contracts.consent import ConsentWithdrawalAcknowledged
from casebridge_common.events.envelope import CloudEvent

log = logging.getLogger(__name__)


async def on_withdrawal_acknowledged(event: CloudEvent, uow: CaseUnitOfWork) -> None:
    """Count a holder's receipt for the compliance view. A second receipt of the same holder changes nothing."""
    acknowledged = ConsentWithdrawalAcknowledged.model_validate(event.data)
    async with uow:
        if not await uow.inbox.claim(consumer="case-service.on_withdrawal_acknowledged", event_id=event.id):
            return  # a redelivery: the first delivery's effects are committed
        if not await record_acknowledgement(uow, acknowledged):
            # not an error to retry: an unknown withdrawal or a repeated receipt will not become valid later
            log.info(
                "acknowledgement not counted",
                extra={"withdrawal_id": str(acknowledged.withdrawal_id), "holder": acknowledged.holder},
            )
        await uow.commit()

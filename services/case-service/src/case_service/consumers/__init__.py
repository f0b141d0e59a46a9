"""Kafka handlers of case-service. Each claims the event id in the same transaction as its effects.

A handler module adds itself here: its event types to HANDLERS, its topics to CONSUMED_TOPICS.
"""

from case_service.consumers import referrals
from case_service.consumers.acknowledgements import on_withdrawal_acknowledged
from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.events.contracts.consent import ConsentWithdrawalAcknowledged
from casebridge_common.kafka import Handler

HANDLERS: dict[str, Handler[CaseUnitOfWork]] = {
    ConsentWithdrawalAcknowledged.type: on_withdrawal_acknowledged,
    **referrals.HANDLERS,
}
CONSUMED_TOPICS: list[str] = [
    ConsentWithdrawalAcknowledged.topic,
    referrals.TOPIC,
]

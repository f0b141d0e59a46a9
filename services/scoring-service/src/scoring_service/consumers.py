"""Kafka handlers of scoring-service. Each claims the event id in the same transaction as its effects."""

from casebridge_common.db import utc_now
from casebridge_common.events.contracts.case import CaseOpened
from casebridge_common.events.envelope import CloudEvent
from casebridge_common.kafka import Handler
from scoring_service.service_layer import surveys
from scoring_service.unit_of_work import ScoringUnitOfWork


def handlers(*, baseline_window_days: int) -> dict[str, Handler[ScoringUnitOfWork]]:
    async def on_case_opened(event: CloudEvent, uow: ScoringUnitOfWork) -> None:
        opened = CaseOpened.model_validate(event.data)
        async with uow:
            if not await uow.inbox.claim(consumer="scoring-service.on_case_opened", event_id=event.id):
                return  # a redelivery: the first delivery's effects are committed
            await surveys.schedule_baseline(uow, opened, window_days=baseline_window_days, now=utc_now())
            await uow.commit()

    return {CaseOpened.type: on_case_opened}


CONSUMED_TOPICS = [CaseOpened.topic]

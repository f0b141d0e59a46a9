"""Kafka handlers of scoring-service. Each claims the event id in the same transaction as its effects."""

from casebridge_common.db import utc_now
from casebridge_common.events.contracts.case import (
    BeneficiaryErased,
    CaseMonitoringProfile,
    CaseOpened,
    CaseTransferred,
)
from casebridge_common.events.contracts.consent import ConsentGiven, ConsentWithdrawn
from casebridge_common.events.envelope import CloudEvent
from casebridge_common.kafka import Handler
from scoring_service.service_layer import monitoring, surveys, withdrawals
from scoring_service.unit_of_work import ScoringUnitOfWork


def handlers(*, baseline_window_days: int) -> dict[str, Handler[ScoringUnitOfWork]]:
    async def on_case_opened(event: CloudEvent, uow: ScoringUnitOfWork) -> None:
        opened = CaseOpened.model_validate(event.data)
        async with uow:
            if not await uow.inbox.claim(consumer="scoring-service.on_case_opened", event_id=event.id):
                return  # a redelivery: the first delivery's effects are committed
            await surveys.schedule_baseline(uow, opened, window_days=baseline_window_days, now=utc_now())
            await uow.commit()

    return {
        CaseOpened.type: on_case_opened,
        CaseTransferred.type: on_case_transferred,
        ConsentWithdrawn.type: on_consent_withdrawn,
        ConsentGiven.type: on_consent_given,
        BeneficiaryErased.type: on_beneficiary_erased,
        CaseMonitoringProfile.type: on_monitoring_profile,
    }


async def on_case_transferred(event: CloudEvent, uow: ScoringUnitOfWork) -> None:
    transferred = CaseTransferred.model_validate(event.data)
    async with uow:
        if not await uow.inbox.claim(consumer="scoring-service.on_case_transferred", event_id=event.id):
            return
        await withdrawals.follow_transfer(uow, transferred)
        await uow.commit()


async def on_consent_withdrawn(event: CloudEvent, uow: ScoringUnitOfWork) -> None:
    withdrawn = ConsentWithdrawn.model_validate(event.data)
    async with uow:
        if not await uow.inbox.claim(consumer="scoring-service.on_consent_withdrawn", event_id=event.id):
            return  # one exclusion and one acknowledgement per event, however often it is delivered
        await withdrawals.withhold_from_analysis(uow, withdrawn, now=utc_now())
        await uow.commit()


async def on_consent_given(event: CloudEvent, uow: ScoringUnitOfWork) -> None:
    given = ConsentGiven.model_validate(event.data)
    async with uow:
        if not await uow.inbox.claim(consumer="scoring-service.on_consent_given", event_id=event.id):
            return
        await monitoring.readmit_to_analysis(uow, given, now=utc_now())
        await uow.commit()


async def on_monitoring_profile(event: CloudEvent, uow: ScoringUnitOfWork) -> None:
    profile = CaseMonitoringProfile.model_validate(event.data)
    async with uow:
        if not await uow.inbox.claim(consumer="scoring-service.on_monitoring_profile", event_id=event.id):
            return
        await monitoring.record_profile(uow, profile, now=utc_now())
        await uow.commit()


async def on_beneficiary_erased(event: CloudEvent, uow: ScoringUnitOfWork) -> None:
    erased = BeneficiaryErased.model_validate(event.data)
    async with uow:
        if not await uow.inbox.claim(consumer="scoring-service.on_beneficiary_erased", event_id=event.id):
            return
        await withdrawals.purge_beneficiary(uow, erased, now=utc_now())
        await uow.commit()


CONSUMED_TOPICS = sorted(
    {CaseOpened.topic, ConsentWithdrawn.topic, BeneficiaryErased.topic, CaseMonitoringProfile.topic}
)

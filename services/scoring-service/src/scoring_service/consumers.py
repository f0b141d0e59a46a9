"""Kafka handlers of scoring-service. Each claims the event id in the same transaction as its effects."""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from casebridge_common.db import utc_now
from casebridge_common.events.contracts.case import (
    BeneficiaryErased,
    CaseMonitoringProfile,
    CaseOpened,
    CaseTransferred,
)
from casebridge_common.events.contracts.consent import ConsentGiven, ConsentWithdrawn
from casebridge_common.events.envelope import Event
from casebridge_common.inbox import exactly_once
from casebridge_common.kafka import Handler
from scoring_service.service_layer import monitoring, surveys, withdrawals
from scoring_service.unit_of_work import ScoringUnitOfWork

E = TypeVar("E", bound=Event)


def _once(
    consumer: str, contract: type[E], apply: Callable[[ScoringUnitOfWork, E], Awaitable[object]]
) -> Handler[ScoringUnitOfWork]:
    """:func:`exactly_once` for this service's unit of work."""
    return exactly_once(consumer, contract, apply)


def handlers(*, baseline_window_days: int) -> dict[str, Handler[ScoringUnitOfWork]]:
    on_case_opened = _once(
        "scoring-service.on_case_opened",
        CaseOpened,
        lambda uow, opened: surveys.schedule_baseline(uow, opened, window_days=baseline_window_days, now=utc_now()),
    )
    return {
        CaseOpened.type: on_case_opened,
        CaseTransferred.type: on_case_transferred,
        ConsentWithdrawn.type: on_consent_withdrawn,
        ConsentGiven.type: on_consent_given,
        BeneficiaryErased.type: on_beneficiary_erased,
        CaseMonitoringProfile.type: on_monitoring_profile,
    }


on_case_transferred = _once("scoring-service.on_case_transferred", CaseTransferred, withdrawals.follow_transfer)
# one exclusion and one acknowledgement per event, however often it is delivered
on_consent_withdrawn = _once(
    "scoring-service.on_consent_withdrawn",
    ConsentWithdrawn,
    lambda uow, withdrawn: withdrawals.withhold_from_analysis(uow, withdrawn, now=utc_now()),
)
on_consent_given = _once(
    "scoring-service.on_consent_given",
    ConsentGiven,
    lambda uow, given: monitoring.readmit_to_analysis(uow, given, now=utc_now()),
)
on_monitoring_profile = _once(
    "scoring-service.on_monitoring_profile",
    CaseMonitoringProfile,
    lambda uow, profile: monitoring.record_profile(uow, profile, now=utc_now()),
)
on_beneficiary_erased = _once(
    "scoring-service.on_beneficiary_erased",
    BeneficiaryErased,
    lambda uow, erased: withdrawals.purge_beneficiary(uow, erased, now=utc_now()),
)


CONSUMED_TOPICS = sorted(
    {CaseOpened.topic, ConsentWithdrawn.topic, BeneficiaryErased.topic, CaseMonitoringProfile.topic}
)

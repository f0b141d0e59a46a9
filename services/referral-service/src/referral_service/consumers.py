"""Kafka handlers of referral-service. Each claims the event id in the same transaction as its effects."""

from casebridge_common.events.contracts.case import CaseOpened
from casebridge_common.events.envelope import CloudEvent
from casebridge_common.kafka import Handler
from referral_service.domain.models import CaseProjection
from referral_service.unit_of_work import ReferralUnitOfWork


async def on_case_opened(event: CloudEvent, uow: ReferralUnitOfWork) -> None:
    """Learn which office owns the case: until the consent policy, only that office may refer it."""
    opened = CaseOpened.model_validate(event.data)
    async with uow:
        if not await uow.inbox.claim(consumer="referral-service.on_case_opened", event_id=event.id):
            return  # a redelivery: the first delivery's effects are committed
        await uow.cases.upsert_if_newer(
            CaseProjection(
                case_id=opened.case_id,
                case_version=opened.case_version,
                programme=opened.programme,
                owner_office_id=opened.owner_office_id,
                owner_organisation_id=opened.owner_organisation_id,
                opened_at=opened.opened_at,
            )
        )
        await uow.commit()


HANDLERS: dict[str, Handler[ReferralUnitOfWork]] = {CaseOpened.type: on_case_opened}
CONSUMED_TOPICS = [CaseOpened.topic]

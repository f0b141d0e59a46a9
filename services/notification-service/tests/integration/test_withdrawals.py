"""Consent withdrawal and erasure reaching notification-service's stored copies, and the rules for transfers,
shares and break-glass, on real PostgreSQL (and Kafka for the consume loop)."""

import asyncio
import contextlib
import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from casebridge_common.access import ShareMode
from casebridge_common.auth import Principal
from casebridge_common.db import utc_now
from casebridge_common.events.contracts.case import (
    BeneficiaryErased,
    BreakGlassUsed,
    CaseOpened,
    CaseShared,
    CaseTransferEnded,
    CaseTransferProposed,
    CaseTransferred,
    CaseTransferReminderDue,
    Programme,
    TransferOutcome,
)
from casebridge_common.events.contracts.consent import ConsentWithdrawn, ScopeTerms, WithdrawalKind
from casebridge_common.events.contracts.scoring import Administration, SurveyDue
from casebridge_common.events.envelope import CloudEvent, Event, json_bytes
from casebridge_common.kafka import DeadLetters, Topics, consume, make_consumer, make_producer
from casebridge_common.outbox import OutboxMessage
from notification_service.consumers import CONSUMED_TOPICS, HANDLERS
from notification_service.consumers.events import on_beneficiary_erased, on_consent_withdrawn, on_event
from notification_service.domain.emails import RenderedMail
from notification_service.domain.errors import DeliveryNotReplayable
from notification_service.domain.models import (
    BeneficiaryErasure,
    Channel,
    EmailMessage,
    InboxItem,
    Language,
    SmsMessage,
    WebhookDelivery,
    WithdrawalReceipt,
)
from notification_service.domain.redaction import ERASED_TEXT, WITHDRAWN_TEXT
from notification_service.domain.webhooks import RetryPolicy
from notification_service.service_layer import deliveries, mail, preferences, subscriptions
from notification_service.service_layer.catalogue import SUBSCRIBABLE
from notification_service.service_layer.deliveries import Attempt
from notification_service.service_layer.mail import Outgoing
from notification_service.unit_of_work import NotificationUnitOfWork

Sessions = async_sessionmaker[AsyncSession]
CASE_SERVICE = "/casebridge/case-service"
POLICY = RetryPolicy(base_delay_s=60, max_delay_s=60, max_attempts=3, pause_after_failures=100)


def office(office_id: str) -> Principal:
    return Principal(
        subject=f"{office_id}-system",
        client_id=f"{office_id}-system",
        organisation_id=f"org-{office_id}",
        office_id=office_id,
        country=None,
        scopes=frozenset(),
        roles=frozenset(),
    )


@pytest.fixture
def owner() -> Principal:
    """An office of its own: other suites commit preferences and items for the demo offices."""
    return office(f"xx-{uuid.uuid4().hex[:8]}")


def _around_now() -> tuple[time, time]:
    """Two hours either side of now: the window holds whatever the time of day (it may span midnight)."""
    now = utc_now().replace(microsecond=0)
    return (now - timedelta(hours=2)).time(), (now + timedelta(hours=2)).time()


async def prefer_mail_and_text(sessions: Sessions, who: Principal, *, quiet: bool = False) -> None:
    async with NotificationUnitOfWork(sessions) as uow:
        await preferences.set_preferences(
            uow,
            channels=[Channel.EMAIL, Channel.SMS],
            email_address="office@owner.example",
            phone_number="+4930123456",
            language=Language.EN,
            timezone="UTC",
            quiet_hours=_around_now() if quiet else None,
            digest=quiet,
            if_match='"0"',
            actor=who,
            now=utc_now(),
        )
        await uow.commit()


async def subscribe(sessions: Sessions, who: Principal, event_types: list[str]) -> uuid.UUID:
    async with NotificationUnitOfWork(sessions) as uow:
        subscription = subscriptions.create_subscription(
            uow,
            event_types=event_types,
            url="https://owner.example/hooks",
            event_filter={},
            description=None,
            environment="test",
            actor=who,
            now=utc_now(),
        )
        await uow.commit()
    return subscription.id


def case_opened(who: Principal, beneficiary_id: uuid.UUID) -> CloudEvent:
    opened = CaseOpened(
        case_id=uuid.uuid4(),
        case_version=1,
        beneficiary_id=beneficiary_id,
        programme=Programme.RETURN_REINTEGRATION,
        owner_office_id=str(who.office_id),
        owner_organisation_id=who.organisation_id,
        opened_at=datetime.now(UTC),
    )
    return CloudEvent.wrap(opened, source=CASE_SERVICE)


def survey_due(who: Principal, case_id: uuid.UUID) -> CloudEvent:
    due = SurveyDue(
        survey_schedule_id=uuid.uuid4(),
        case_id=case_id,
        owner_office_id=str(who.office_id),
        administration=Administration.BASELINE,
        instrument="rss",
        due_on=date(2027, 1, 3),
    )
    return CloudEvent.wrap(due, source="/casebridge/scoring-service")


def withdrawal(who: Principal, beneficiary_id: uuid.UUID, case_ids: list[uuid.UUID]) -> ConsentWithdrawn:
    return ConsentWithdrawn(
        consent_id=uuid.uuid4(),
        beneficiary_id=beneficiary_id,
        case_ids=case_ids,
        owner_office_id=str(who.office_id),
        withdrawal_id=uuid.uuid4(),
        kind=WithdrawalKind.WITHDRAWN,
        superseded_by=None,
        withdrawn_scopes=[ScopeTerms(data_categories=["contact"], purposes=["case_management"], offices=["sn-dakar"])],
        withdrawn_at=datetime.now(UTC),
        acknowledge_by=datetime.now(UTC) + timedelta(days=1),
    )


async def mails_of(sessions: Sessions, item_ids: list[uuid.UUID]) -> list[EmailMessage]:
    async with NotificationUnitOfWork(sessions) as uow:
        query = select(EmailMessage).where(col(EmailMessage.inbox_item_id).in_(item_ids))
        return list((await uow.session.scalars(query)).all())


async def texts_of(sessions: Sessions, item_ids: list[uuid.UUID]) -> list[SmsMessage]:
    async with NotificationUnitOfWork(sessions) as uow:
        query = select(SmsMessage).where(col(SmsMessage.inbox_item_id).in_(item_ids))
        return list((await uow.session.scalars(query)).all())


async def items_of(sessions: Sessions, case_id: uuid.UUID) -> list[InboxItem]:
    async with NotificationUnitOfWork(sessions) as uow:
        return list((await uow.session.scalars(select(InboxItem).where(col(InboxItem.case_id) == case_id))).all())


async def deliveries_of(sessions: Sessions, subscription_id: uuid.UUID) -> list[WebhookDelivery]:
    async with NotificationUnitOfWork(sessions) as uow:
        query = select(WebhookDelivery).where(col(WebhookDelivery.subscription_id) == subscription_id)
        return list((await uow.session.scalars(query.order_by(col(WebhookDelivery.seq)))).all())


async def acknowledgements(sessions: Sessions, withdrawal_id: uuid.UUID) -> list[OutboxMessage]:
    async with NotificationUnitOfWork(sessions) as uow:
        query = select(OutboxMessage).where(col(OutboxMessage.key) == str(withdrawal_id))
        return list((await uow.session.scalars(query)).all())


async def copies_of_one_case(sessions: Sessions, owner: Principal) -> tuple[CloudEvent, uuid.UUID]:
    """A case with an item, mail, text and webhook delivery already sent, and a second set still waiting."""
    await prefer_mail_and_text(sessions, owner)
    hook = await subscribe(sessions, owner, [CaseOpened.type, SurveyDue.type])
    opened = case_opened(owner, uuid.uuid4())
    await on_event(opened, NotificationUnitOfWork(sessions))
    [sent_item] = await items_of(sessions, uuid.UUID(opened.subject))
    [sent_mail] = await mails_of(sessions, [sent_item.id])
    [first] = await deliveries_of(sessions, hook)
    async with NotificationUnitOfWork(sessions) as uow:
        outgoing = Outgoing((sent_mail.id,), sent_mail.to_address, Language.EN, RenderedMail("s", "t", "h"))
        await mail.record_sent(uow, [(outgoing, None)], policy=POLICY, now=utc_now(), jitter=lambda: 0.5)
        attempt = Attempt(delivery_id=first.id, subscription_id=hook, ok=True, status_code=204, error=None)
        await deliveries.record_attempts(uow, [attempt], policy=POLICY, now=utc_now(), jitter=lambda: 0.5)
        await uow.commit()
    await on_event(survey_due(owner, uuid.UUID(opened.subject)), NotificationUnitOfWork(sessions))
    return opened, hook


async def test_the_same_withdrawal_twice_redacts_every_copy_once_stops_waiting_ones_and_acknowledges_once(
    sessions: Sessions, owner: Principal
) -> None:
    opened, hook = await copies_of_one_case(sessions, owner)
    case_id = uuid.UUID(opened.subject)
    other = case_opened(owner, uuid.uuid4())
    await on_event(other, NotificationUnitOfWork(sessions))
    before = {i.id: i for i in await items_of(sessions, case_id)}

    withdrawn = withdrawal(owner, uuid.UUID(str(opened.data["beneficiary_id"])), [case_id])
    event = CloudEvent.wrap(withdrawn, source=CASE_SERVICE)
    for _ in range(2):  # Kafka redelivers: at-least-once
        await on_consent_withdrawn(event, NotificationUnitOfWork(sessions))

    items = await items_of(sessions, case_id)
    assert {i.title for i in items} == {WITHDRAWN_TEXT}
    assert all(i.redacted_at is not None and i.case_id == case_id for i in items)
    # new versions and change numbers: mobile clients replace their copies on the next delta sync
    assert all(
        i.version == before[i.id].version + 1 and (i.change_seq or 0) > (before[i.id].change_seq or 0) for i in items
    )
    item_ids = [i.id for i in items]
    mails, texts = await mails_of(sessions, item_ids), await texts_of(sessions, item_ids)
    assert sorted(m.status for m in mails) == ["sent", "withheld"]
    assert {(m.subject, m.text_body, m.html_body) for m in mails} == {(WITHDRAWN_TEXT, WITHDRAWN_TEXT, "")}
    assert [t.status for t in texts] == ["withheld", "withheld"]
    assert {t.text for t in texts} == {WITHDRAWN_TEXT}
    hooked = await deliveries_of(sessions, hook)
    redacted = [d for d in hooked if d.redacted_at is not None]
    assert [d.status for d in redacted] == ["succeeded", "withheld"]
    assert [d.event["data"] for d in redacted] == [{"redacted": True}] * 2
    assert all(d.event["id"] and d.event["type"] for d in redacted)
    untouched = [d for d in hooked if d.redacted_at is None]
    assert [d.event["subject"] for d in untouched] == [other.subject]
    assert {i.title for i in await items_of(sessions, uuid.UUID(other.subject))} != {WITHDRAWN_TEXT}

    [ack] = await acknowledgements(sessions, withdrawn.withdrawal_id)
    assert ack.event["type"] == "casebridge.consent.withdrawal_acknowledged.v1"
    data = ack.event["data"]
    assert (data["holder"], data["purged"], data["redacted"]) == ("notification-service", 0, 8)
    async with NotificationUnitOfWork(sessions) as uow:
        receipt = await uow.session.get(WithdrawalReceipt, withdrawn.withdrawal_id)
        with pytest.raises(DeliveryNotReplayable):
            await subscriptions.replay_delivery(uow, hook, redacted[0].id, actor=owner, now=utc_now())
    assert receipt is not None
    assert (receipt.withheld, receipt.redacted, receipt.case_ids) == (4, 8, [case_id])


async def test_a_withdrawal_about_copies_never_held_is_acknowledged_with_zero_counts(sessions: Sessions) -> None:
    withdrawn = withdrawal(office("de-berlin"), uuid.uuid4(), [uuid.uuid4()])
    await on_consent_withdrawn(CloudEvent.wrap(withdrawn, source=CASE_SERVICE), NotificationUnitOfWork(sessions))
    [ack] = await acknowledgements(sessions, withdrawn.withdrawal_id)
    assert (ack.event["data"]["purged"], ack.event["data"]["redacted"]) == (0, 0)


async def test_erasure_purges_mails_texts_and_deliveries_and_leaves_archived_items_without_titles(
    sessions: Sessions, owner: Principal
) -> None:
    opened, hook = await copies_of_one_case(sessions, owner)
    case_id, beneficiary_id = uuid.UUID(opened.subject), uuid.UUID(str(opened.data["beneficiary_id"]))
    erased = BeneficiaryErased(beneficiary_id=beneficiary_id, case_ids=[case_id], erased_at=datetime.now(UTC))
    event = CloudEvent.wrap(erased, source=CASE_SERVICE)
    for _ in range(2):
        await on_beneficiary_erased(event, NotificationUnitOfWork(sessions))

    items = await items_of(sessions, case_id)
    assert len(items) == 2
    assert all(
        (i.title, i.archived_at is not None, i.redacted_at is not None) == (ERASED_TEXT, True, True) for i in items
    )
    item_ids = [i.id for i in items]
    assert await mails_of(sessions, item_ids) == []
    assert await texts_of(sessions, item_ids) == []
    assert await deliveries_of(sessions, hook) == []
    async with NotificationUnitOfWork(sessions) as uow:
        trace = await uow.session.get(BeneficiaryErasure, beneficiary_id)
    assert trace is not None
    assert (trace.purged, trace.redacted, trace.case_ids) == (6, 2, [case_id])


TRANSFER = {"transfer_id": uuid.uuid4(), "from_office_id": "de-berlin", "to_office_id": "sn-dakar"}


def new_rule_events(case_id: uuid.UUID) -> list[Event]:
    now = datetime.now(UTC)
    return [
        CaseTransferProposed(
            case_id=case_id, **TRANSFER, proposed_at=now, remind_at=now, respond_by=now + timedelta(days=7)
        ),
        CaseTransferReminderDue(case_id=case_id, **TRANSFER, respond_by=now + timedelta(days=7)),
        CaseTransferred(
            case_id=case_id, **TRANSFER, to_organisation_id="iom-senegal", case_version=3, transferred_at=now
        ),
        CaseTransferEnded(case_id=case_id, **TRANSFER, outcome=TransferOutcome.CANCELLED, reason=None, ended_at=now),
        CaseShared(
            case_id=case_id,
            share_id=uuid.uuid4(),
            owner_office_id="sn-dakar",
            office_id="iq-erbil",
            mode=ShareMode.VIEW,
            expires_at=None,
        ),
        BreakGlassUsed(
            case_id=case_id,
            grant_id=uuid.uuid4(),
            owner_office_id="sn-dakar",
            actor_subject="karwan.aziz",
            actor_office_id="iq-erbil",
            granted_at=now,
            expires_at=now + timedelta(hours=4),
        ),
    ]


async def test_transfers_shares_and_emergency_access_reach_the_right_inboxes_once(sessions: Sessions) -> None:
    case_id = uuid.uuid4()
    for event in new_rule_events(case_id):
        wrapped = CloudEvent.wrap(event, source=CASE_SERVICE)
        for _ in range(2):
            await on_event(wrapped, NotificationUnitOfWork(sessions))
    got = sorted((i.office_id or "", i.kind, i.urgent) for i in await items_of(sessions, case_id))
    assert got == [
        ("de-berlin", "case_transfer_ended", False),
        ("de-berlin", "case_transferred", False),
        ("iq-erbil", "case_shared", False),
        ("sn-dakar", "break_glass_used", True),
        ("sn-dakar", "case_transfer_ended", False),
        ("sn-dakar", "case_transfer_proposed", False),
        ("sn-dakar", "case_transfer_reminder", False),
    ]


async def test_emergency_access_is_mailed_at_once_through_quiet_hours_and_digest(
    sessions: Sessions, owner: Principal
) -> None:
    await prefer_mail_and_text(sessions, owner, quiet=True)
    case_id, now = uuid.uuid4(), datetime.now(UTC)
    used = BreakGlassUsed(
        case_id=case_id,
        grant_id=uuid.uuid4(),
        owner_office_id=str(owner.office_id),
        actor_subject="karwan.aziz",
        actor_office_id="iq-erbil",
        granted_at=now,
        expires_at=now + timedelta(hours=4),
    )
    await on_event(CloudEvent.wrap(used, source=CASE_SERVICE), NotificationUnitOfWork(sessions))
    await on_event(survey_due(owner, case_id), NotificationUnitOfWork(sessions))
    items = {i.kind: i.id for i in await items_of(sessions, case_id)}
    [urgent_mail] = await mails_of(sessions, [items["break_glass_used"]])
    [urgent_text] = await texts_of(sessions, [items["break_glass_used"]])
    [ordinary] = await mails_of(sessions, [items["survey_due"]])
    assert urgent_mail.subject == "Urgent: emergency access to a case of your office"
    assert (urgent_mail.digest, urgent_mail.next_attempt_at <= utc_now()) == (False, True)
    assert urgent_text.next_attempt_at <= utc_now()
    assert (ordinary.digest, ordinary.next_attempt_at > utc_now()) == (True, True)


def test_the_worker_consumes_consent_and_beneficiary_events_without_offering_them_to_webhooks() -> None:
    assert {"casebridge.consent.events.v1", "casebridge.beneficiary.events.v1"} <= set(CONSUMED_TOPICS)
    assert HANDLERS[ConsentWithdrawn.type] is on_consent_withdrawn
    assert HANDLERS[BeneficiaryErased.type] is on_beneficiary_erased
    assert not {ConsentWithdrawn.type, BeneficiaryErased.type} & set(SUBSCRIBABLE)


async def test_on_the_broker_a_redelivered_withdrawal_is_acknowledged_once_and_a_poison_one_is_parked(
    committed_sessions: Sessions, kafka_topics: Topics, kafka_bootstrap: str
) -> None:
    topic, dlq_topic = (
        kafka_topics.name(ConsentWithdrawn.topic),
        kafka_topics.name("casebridge.notification-service.dlq"),
    )
    withdrawn = withdrawal(office("de-berlin"), uuid.uuid4(), [uuid.uuid4()])
    event = CloudEvent.wrap(withdrawn, source=CASE_SERVICE)
    poison = CloudEvent(source=CASE_SERVICE, type=ConsentWithdrawn.type, subject="s", data={"case_ids": "none"})
    producer = make_producer(kafka_bootstrap, client_id="notification-withdrawal-test")
    await producer.start()
    consumer = make_consumer(kafka_bootstrap, [topic], group_id=f"g-{uuid.uuid4().hex[:8]}")
    await consumer.start()
    loop = asyncio.create_task(
        consume(
            consumer, HANDLERS, lambda: NotificationUnitOfWork(committed_sessions), DeadLetters(producer, dlq_topic)
        )
    )
    dlq = AIOKafkaConsumer(
        dlq_topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest", group_id=f"d-{uuid.uuid4().hex[:8]}"
    )
    await dlq.start()
    try:
        value = json_bytes(event.model_dump(mode="json"))
        for _ in range(2):
            await producer.send_and_wait(topic, key=event.subject.encode(), value=value)
        await producer.send_and_wait(topic, key=b"poison", value=json_bytes(poison.model_dump(mode="json")))
        parked = []
        async with asyncio.timeout(30):
            while not parked:
                for records in (await dlq.getmany(timeout_ms=500)).values():
                    parked += records
        async with asyncio.timeout(30):
            while not await acknowledgements(committed_sessions, withdrawn.withdrawal_id):  # noqa: ASYNC110 - polling a commit
                await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # room for a wrongful second acknowledgement
        acks = await acknowledgements(committed_sessions, withdrawn.withdrawal_id)
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
        await dlq.stop()
        await consumer.stop()
        await producer.stop()
    assert len(acks) == 1
    assert [r.key for r in parked] == [b"poison"]
    assert dict(parked[0].headers)["x-error-type"] == b"ValidationError"

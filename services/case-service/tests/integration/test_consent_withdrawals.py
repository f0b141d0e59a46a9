"""Withdrawal tracking on real PostgreSQL and Kafka: holders' acknowledgements, the compliance view, the expiry job."""

import asyncio
import contextlib
import uuid
from datetime import UTC, date, datetime, timedelta

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from case_service.consumers import CONSUMED_TOPICS, HANDLERS
from case_service.domain.consent import (
    ConsentMethod,
    ConsentRecord,
    ConsentWithdrawal,
    WithdrawalAcknowledgement,
    WithdrawalStatus,
)
from case_service.domain.models import Beneficiary, Sex
from case_service.service_layer.consent import list_withdrawals, read_withdrawal
from case_service.settings import Settings
from case_service.unit_of_work import CaseUnitOfWork
from case_service.worker import run_jobs_once
from casebridge_common.access import ConsentStatus, GivenBy
from casebridge_common.auth import Principal
from casebridge_common.events.contracts.consent import ConsentWithdrawalAcknowledged, ScopeTerms, WithdrawalKind
from casebridge_common.events.envelope import CloudEvent, json_bytes
from casebridge_common.kafka import DeadLetters, Topics, consume, make_consumer, make_producer
from casebridge_common.outbox import OutboxMessage

HOLDERS = ["referral-service", "scoring-service", "notification-service"]
SCOPE = ScopeTerms(data_categories=["contact"], purposes=["referral_service_delivery"], organisations=["cfp-dakar"])


def auditor(office_id: str) -> Principal:
    return Principal(
        subject="dpo",
        client_id="test",
        organisation_id="iom-germany",
        office_id=office_id,
        country="DE",
        scopes=frozenset({"audit:read"}),
        roles=frozenset(),
    )


async def a_consent(
    sessions: async_sessionmaker[AsyncSession], office_id: str, *, valid_until: datetime | None = None
) -> ConsentRecord:
    now = datetime.now(UTC)
    beneficiary = Beneficiary(
        given_name="Awa",
        family_name="Ndiaye",
        sex=Sex.FEMALE,
        born_on=date(1994, 3, 17),
        nationality="SN",
        registering_office_id=office_id,
        registering_organisation_id="iom-germany",
        registered_at=now,
    )
    record = ConsentRecord(
        beneficiary_id=beneficiary.id,
        status=ConsentStatus.GIVEN,
        given_by=GivenBy.SELF,
        method=ConsentMethod.WRITTEN,
        notice_version="notice-2026-01",
        scopes=[SCOPE.model_dump(mode="json")],
        valid_from=now - timedelta(days=400),
        valid_until=valid_until,
        recorded_by="anna.schmidt",
        recorded_by_office_id=office_id,
        recorded_at=now - timedelta(days=400),
    )
    async with CaseUnitOfWork(sessions) as uow:
        uow.beneficiaries.add(beneficiary)
        await uow.session.flush()
        uow.consents.add(record)
        await uow.commit()
    return record


async def a_withdrawal(
    sessions: async_sessionmaker[AsyncSession], record: ConsentRecord, office_id: str, *, acknowledge_by: datetime
) -> ConsentWithdrawal:
    withdrawal = ConsentWithdrawal(
        consent_id=record.id,
        beneficiary_id=record.beneficiary_id,
        owner_office_id=office_id,
        kind=WithdrawalKind.WITHDRAWN,
        withdrawn_scopes=[SCOPE.model_dump(mode="json")],
        expected_holders=HOLDERS,
        withdrawn_at=acknowledge_by - timedelta(hours=24),
        acknowledge_by=acknowledge_by,
    )
    async with CaseUnitOfWork(sessions) as uow:
        uow.withdrawals.add(withdrawal)
        await uow.commit()
    return withdrawal


def acknowledged(withdrawal: ConsentWithdrawal, holder: str, *, redacted: int = 1) -> CloudEvent:
    return CloudEvent.wrap(
        ConsentWithdrawalAcknowledged(
            withdrawal_id=withdrawal.id,
            consent_id=withdrawal.consent_id,
            beneficiary_id=withdrawal.beneficiary_id,
            holder=holder,
            purged=0,
            redacted=redacted,
            acknowledged_at=datetime.now(UTC),
        ),
        source=f"/casebridge/{holder}",
    )


async def statuses(
    sessions: async_sessionmaker[AsyncSession], office_id: str
) -> dict[WithdrawalStatus, set[uuid.UUID]]:
    found: dict[WithdrawalStatus, set[uuid.UUID]] = {}
    for status in WithdrawalStatus:
        async with CaseUnitOfWork(sessions) as uow:
            rows = await list_withdrawals(
                uow, actor=auditor(office_id), status=status, after=None, limit=50, now=datetime.now(UTC)
            )
        found[status] = {w.id for w in rows}
    return found


async def test_the_consumer_counts_each_holders_acknowledgement_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    office_id = f"t-{uuid.uuid4().hex[:8]}"
    withdrawal = await a_withdrawal(
        sessions, await a_consent(sessions, office_id), office_id, acknowledge_by=datetime.now(UTC) + timedelta(hours=1)
    )
    handler = HANDLERS[ConsentWithdrawalAcknowledged.type]
    event = acknowledged(withdrawal, "referral-service", redacted=2)
    for _ in range(2):  # Kafka redelivers: at-least-once
        await handler(event, CaseUnitOfWork(sessions))
    # the same holder answering again under a new event id changes nothing either
    await handler(acknowledged(withdrawal, "referral-service", redacted=5), CaseUnitOfWork(sessions))
    async with CaseUnitOfWork(sessions) as uow:
        rows = (
            await uow.session.scalars(
                select(WithdrawalAcknowledgement).where(col(WithdrawalAcknowledgement.withdrawal_id) == withdrawal.id)
            )
        ).all()
    assert [(a.holder, a.purged, a.redacted) for a in rows] == [("referral-service", 0, 2)]
    assert ConsentWithdrawalAcknowledged.topic in CONSUMED_TOPICS


async def test_an_acknowledgement_of_an_unknown_withdrawal_is_not_counted(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    office_id = f"t-{uuid.uuid4().hex[:8]}"
    withdrawal = await a_withdrawal(
        sessions, await a_consent(sessions, office_id), office_id, acknowledge_by=datetime.now(UTC) + timedelta(hours=1)
    )
    mismatched = CloudEvent.wrap(
        ConsentWithdrawalAcknowledged(
            withdrawal_id=withdrawal.id,
            consent_id=uuid.uuid4(),  # not the consent this withdrawal is about
            beneficiary_id=withdrawal.beneficiary_id,
            holder="scoring-service",
            purged=1,
            redacted=0,
            acknowledged_at=datetime.now(UTC),
        ),
        source="/casebridge/scoring-service",
    )
    unknown = acknowledged(withdrawal, "scoring-service")
    unknown.data["withdrawal_id"] = str(uuid.uuid4())
    for event in (mismatched, unknown):
        await HANDLERS[ConsentWithdrawalAcknowledged.type](event, CaseUnitOfWork(sessions))
    async with CaseUnitOfWork(sessions) as uow:
        assert await uow.withdrawals.acknowledgements_of([withdrawal.id]) == []


async def test_the_compliance_view_moves_from_pending_and_overdue_to_complete(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    office_id = f"t-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    in_time = await a_withdrawal(
        sessions, await a_consent(sessions, office_id), office_id, acknowledge_by=now + timedelta(hours=1)
    )
    late = await a_withdrawal(
        sessions, await a_consent(sessions, office_id), office_id, acknowledge_by=now - timedelta(hours=1)
    )
    assert await statuses(sessions, office_id) == {
        WithdrawalStatus.PENDING: {in_time.id},
        WithdrawalStatus.OVERDUE: {late.id},
        WithdrawalStatus.COMPLETE: set(),
    }

    handler = HANDLERS[ConsentWithdrawalAcknowledged.type]
    await handler(acknowledged(late, "referral-service"), CaseUnitOfWork(sessions))
    async with CaseUnitOfWork(sessions) as uow:
        view = await read_withdrawal(uow, late.id, actor=auditor(office_id), now=datetime.now(UTC))
    assert view.status is WithdrawalStatus.OVERDUE
    assert [(h.holder, h.state, h.redacted) for h in view.holders] == [
        ("referral-service", "acknowledged", 1),
        ("scoring-service", "overdue", None),
        ("notification-service", "overdue", None),
    ]

    for holder in HOLDERS:
        await handler(acknowledged(in_time, holder), CaseUnitOfWork(sessions))
    for holder in HOLDERS[1:]:
        await handler(acknowledged(late, holder), CaseUnitOfWork(sessions))
    assert await statuses(sessions, office_id) == {
        WithdrawalStatus.PENDING: set(),
        WithdrawalStatus.OVERDUE: set(),
        WithdrawalStatus.COMPLETE: {in_time.id, late.id},
    }
    async with CaseUnitOfWork(sessions) as uow:
        other_office = await list_withdrawals(
            uow, actor=auditor("iq-erbil"), status=None, after=None, limit=200, now=datetime.now(UTC)
        )
    assert not {in_time.id, late.id} & {w.id for w in other_office}


async def test_the_expiry_job_expires_a_lapsed_consent_and_asks_holders_to_purge(
    sessions: async_sessionmaker[AsyncSession], test_db_url: str, oidc_issuer: str
) -> None:
    office_id = f"t-{uuid.uuid4().hex[:8]}"
    lapsed = await a_consent(sessions, office_id, valid_until=datetime.now(UTC) - timedelta(minutes=5))
    current = await a_consent(sessions, office_id, valid_until=datetime.now(UTC) + timedelta(days=5))
    settings = Settings(database_url=test_db_url, oidc_issuer=oidc_issuer, environment="test")

    changed = await run_jobs_once(sessions, settings)
    assert changed["consent-expiry"] >= 1
    async with CaseUnitOfWork(sessions) as uow:
        expired, still = await uow.consents.get(lapsed.id), await uow.consents.get(current.id)
        assert expired is not None
        assert still is not None
        assert (expired.status, expired.version, still.status) == (ConsentStatus.EXPIRED, 2, ConsentStatus.GIVEN)
        [withdrawal] = await uow.withdrawals.of_consent(lapsed.id)
        assert (withdrawal.kind, withdrawal.owner_office_id, withdrawal.expected_holders) == (
            WithdrawalKind.EXPIRED,
            office_id,
            HOLDERS,
        )
        assert withdrawal.acknowledge_by - withdrawal.withdrawn_at == timedelta(hours=24)
        events = (
            await uow.session.scalars(select(OutboxMessage).where(col(OutboxMessage.key) == str(lapsed.beneficiary_id)))
        ).all()
        assert [(m.event["type"], m.event["data"]["kind"]) for m in events] == [
            ("casebridge.consent.withdrawn.v1", "expired")
        ]
        assert events[0].event["data"]["withdrawal_id"] == str(withdrawal.id)
        receipt = await uow.consents.receipt(lapsed.id, None)
        assert receipt is not None
        assert (receipt.consent_version, receipt.document["status"]) == (2, "expired")
    await run_jobs_once(sessions, settings)  # a second round leaves an expired consent alone
    async with CaseUnitOfWork(sessions) as uow:
        assert len(await uow.withdrawals.of_consent(lapsed.id)) == 1


async def test_on_the_broker_a_redelivered_acknowledgement_counts_once_and_a_poison_one_is_parked(
    committed_sessions: async_sessionmaker[AsyncSession], kafka_topics: Topics, kafka_bootstrap: str
) -> None:
    office_id = f"t-{uuid.uuid4().hex[:8]}"
    record = await a_consent(committed_sessions, office_id)
    withdrawal = await a_withdrawal(
        committed_sessions, record, office_id, acknowledge_by=datetime.now(UTC) + timedelta(hours=1)
    )
    topic = kafka_topics.name(ConsentWithdrawalAcknowledged.topic)
    dlq_topic = kafka_topics.name("casebridge.case-service.dlq")
    event = acknowledged(withdrawal, "notification-service")
    poison = CloudEvent(
        source="/casebridge/notification-service",
        type=ConsentWithdrawalAcknowledged.type,
        subject="s",
        data={"withdrawal_id": "x"},
    )
    producer = make_producer(kafka_bootstrap, client_id="case-acknowledgement-test")
    await producer.start()
    consumer = make_consumer(kafka_bootstrap, [topic], group_id=f"g-{uuid.uuid4().hex[:8]}")
    await consumer.start()
    loop = asyncio.create_task(
        consume(consumer, HANDLERS, lambda: CaseUnitOfWork(committed_sessions), DeadLetters(producer, dlq_topic))
    )
    dlq = AIOKafkaConsumer(
        dlq_topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest", group_id=f"d-{uuid.uuid4().hex[:8]}"
    )
    await dlq.start()

    async def counted() -> list[WithdrawalAcknowledgement]:
        async with CaseUnitOfWork(committed_sessions) as uow:
            return await uow.withdrawals.acknowledgements_of([withdrawal.id])

    try:
        value = json_bytes(event.model_dump(mode="json"))
        for _ in range(2):
            await producer.send_and_wait(topic, key=event.subject.encode(), value=value)
        await producer.send_and_wait(topic, key=b"poison", value=json_bytes(poison.model_dump(mode="json")))
        parked: list[ConsumerRecord[bytes, bytes]] = []
        async with asyncio.timeout(30):
            while not parked:
                for records in (await dlq.getmany(timeout_ms=500)).values():
                    parked += records
        async with asyncio.timeout(30):
            while not await counted():  # noqa: ASYNC110 - polling a commit
                await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # room for a wrongful second acknowledgement
        acknowledgements = await counted()
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
        await dlq.stop()
        await consumer.stop()
        await producer.stop()
    assert [(a.holder, a.redacted) for a in acknowledgements] == [("notification-service", 1)]
    assert [r.key for r in parked] == [b"poison"]

"""The worker's consume loop with referral-service's own handlers, on the real broker: a consent given, a
referral sent under it, the withdrawal delivered twice (one redaction, one acknowledgement), and a malformed
withdrawal parked on the service's dead-letter topic."""

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casebridge_common.access import ConsentStatus, DataCategory, Purpose
from casebridge_common.auth import Principal
from casebridge_common.db import utc_now
from casebridge_common.events.contracts.case import CaseOpened, Programme
from casebridge_common.events.contracts.consent import ConsentGiven, ConsentWithdrawn, ScopeTerms, WithdrawalKind
from casebridge_common.events.envelope import CloudEvent, Event, json_bytes
from casebridge_common.kafka import DeadLetters, Topics, consume, make_consumer, make_producer
from casebridge_common.outbox import OutboxMessage
from referral_service.api.dependencies import deadline_policy
from referral_service.consumers import CONSUMED_TOPICS, HANDLERS
from referral_service.domain.lifecycle import ReferralStatus
from referral_service.schemas import CreateReferral, DirectoryImport
from referral_service.service_layer import referrals
from referral_service.service_layer.directory import load_directory
from referral_service.settings import Settings
from referral_service.unit_of_work import ReferralUnitOfWork

DEMO = Path(__file__).resolve().parents[4] / "deploy" / "demo" / "directory.json"
POLICY = deadline_policy(Settings(database_url="postgresql+asyncpg://x/y", oidc_issuer="http://idp"))
DLQ = "casebridge.referral-service.dlq"
ACKNOWLEDGED = "casebridge.consent.withdrawal_acknowledged.v1"
BERLIN = Principal(
    subject="de-berlin-system",
    client_id="de-berlin-system",
    organisation_id="iom-germany",
    office_id="de-berlin",
    country="DE",
    scopes=frozenset({"referrals:send"}),
    roles=frozenset({"case_manager"}),
)
Sessions = async_sessionmaker[AsyncSession]


async def _acknowledgements(sessions: Sessions) -> int:
    async with sessions() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.event["type"].astext == ACKNOWLEDGED)
            )
            or 0
        )


async def _consent_status(sessions: Sessions, consent_id: uuid.UUID) -> ConsentStatus | None:
    async with ReferralUnitOfWork(sessions) as uow:
        consent = await uow.consents.get(consent_id)
        return consent.status if consent is not None else None


async def test_a_withdrawal_delivered_twice_is_acknowledged_once_and_a_malformed_one_is_parked(
    committed_sessions: Sessions, kafka_topics: Topics, kafka_bootstrap: str
) -> None:
    async with ReferralUnitOfWork(committed_sessions) as uow:
        await load_directory(uow, DirectoryImport.model_validate_json(DEMO.read_text()), now=utc_now())
        await uow.commit()
    beneficiary_id, case_id, now = uuid.uuid4(), uuid.uuid4(), datetime.now(UTC)
    opened = CaseOpened(
        case_id=case_id,
        case_version=1,
        beneficiary_id=beneficiary_id,
        programme=Programme.RETURN_REINTEGRATION,
        owner_office_id="de-berlin",
        owner_organisation_id="iom-germany",
        opened_at=now,
    )
    scope = ScopeTerms(
        data_categories=[DataCategory.CONTACT],
        purposes=[Purpose.REFERRAL_SERVICE_DELIVERY],
        organisations=["cfp-dakar"],
    )
    given = ConsentGiven(
        consent_id=uuid.uuid4(),
        beneficiary_id=beneficiary_id,
        case_ids=[case_id],
        owner_office_id="de-berlin",
        status=ConsentStatus.GIVEN,
        renewed=False,
        supersedes=None,
        scopes=[scope],
        valid_from=now - timedelta(days=1),
        valid_until=None,
    )
    withdrawn = ConsentWithdrawn(
        consent_id=given.consent_id,
        beneficiary_id=beneficiary_id,
        case_ids=[case_id],
        owner_office_id="de-berlin",
        withdrawal_id=uuid.uuid4(),
        kind=WithdrawalKind.WITHDRAWN,
        superseded_by=None,
        withdrawn_scopes=[scope],
        withdrawn_at=now,
        acknowledge_by=now + timedelta(days=1),
    )

    producer = make_producer(kafka_bootstrap, client_id="referral-consumer-test")
    await producer.start()
    consumer = make_consumer(
        kafka_bootstrap, [kafka_topics.name(t) for t in CONSUMED_TOPICS], group_id=f"g-{uuid.uuid4().hex[:8]}"
    )
    await consumer.start()
    loop = asyncio.create_task(
        consume(
            consumer,
            HANDLERS,
            lambda: ReferralUnitOfWork(committed_sessions),
            DeadLetters(producer, kafka_topics.name(DLQ)),
        )
    )
    dlq = AIOKafkaConsumer(
        kafka_topics.name(DLQ),
        bootstrap_servers=kafka_bootstrap,
        auto_offset_reset="earliest",
        group_id=f"d-{uuid.uuid4().hex[:8]}",
    )
    await dlq.start()

    async def publish(event: Event, envelope: CloudEvent | None = None) -> None:
        envelope = envelope or CloudEvent.wrap(event, source="/casebridge/case-service")
        await producer.send_and_wait(
            kafka_topics.name(event.topic),
            key=envelope.subject.encode(),
            value=json_bytes(envelope.model_dump(mode="json")),
        )

    parked: list[ConsumerRecord[bytes, bytes]] = []
    try:
        await publish(opened)
        await publish(given)
        async with asyncio.timeout(30):
            while await _consent_status(committed_sessions, given.consent_id) is None:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        async with ReferralUnitOfWork(committed_sessions) as uow:
            body = CreateReferral.model_validate(
                {"case_id": case_id, "destination": {"service_id": "cfp-dakar-tvet-dakar"}, "reason": "Training"}
            )
            draft = await referrals.create_referral(uow, body, policy=POLICY, actor=BERLIN, now=utc_now())
            await uow.session.flush()
            sent = await referrals.send_referral(
                uow, draft.id, policy=POLICY, if_match='"1"', actor=BERLIN, now=utc_now()
            )
            await uow.commit()

        envelope = CloudEvent.wrap(withdrawn, source="/casebridge/case-service")
        for _ in range(2):  # Kafka redelivers: at-least-once
            await publish(withdrawn, envelope)
        malformed = CloudEvent(
            source="/casebridge/case-service",
            type=ConsentWithdrawn.type,
            subject=str(beneficiary_id),
            data={"consent_id": "not-a-uuid", "kind": "forgotten"},
        )
        await producer.send_and_wait(
            kafka_topics.name(ConsentWithdrawn.topic),
            key=b"malformed",
            value=json_bytes(malformed.model_dump(mode="json")),
        )
        async with asyncio.timeout(30):
            while not parked:
                for records in (await dlq.getmany(timeout_ms=500)).values():
                    parked += records
        async with asyncio.timeout(30):
            while await _acknowledgements(committed_sessions) == 0:  # noqa: ASYNC110 - another task's commit
                await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # room for a wrongful second acknowledgement to appear
        acknowledgements = await _acknowledgements(committed_sessions)
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
        await dlq.stop()
        await consumer.stop()
        await producer.stop()

    assert acknowledgements == 1
    assert await _consent_status(committed_sessions, given.consent_id) == ConsentStatus.WITHDRAWN
    async with ReferralUnitOfWork(committed_sessions) as uow:
        after = await uow.referrals.get(sent.id)
        assert after is not None
        assert after.status == ReferralStatus.CONSENT_WITHDRAWN
        assert len(await uow.disclosures.redactions(sent.id)) == 1
    [record] = parked
    headers = dict(record.headers)
    assert (record.key, headers["x-error-type"]) == (b"malformed", b"ValidationError")
    assert headers["x-original-topic"] == kafka_topics.name(ConsentWithdrawn.topic).encode()

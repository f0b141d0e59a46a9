"""Referral links on real Kafka and PostgreSQL: the worker's consume loop turns referral events into the
links the access policy reads, once per event, in version order, and parks what it cannot read."""

import asyncio
import contextlib
import uuid
from datetime import UTC, date, datetime

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from case_service.consumers import CONSUMED_TOPICS, HANDLERS
from case_service.domain.models import Beneficiary, Case, Sex
from case_service.domain.sharing import CaseReferralLink
from case_service.domain.stages import Stage
from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.events.contracts.case import Programme
from casebridge_common.events.contracts.referral import ReferralCancelled, ReferralEvent, ReferralSent
from casebridge_common.events.envelope import CloudEvent, json_bytes
from casebridge_common.kafka import DeadLetters, Topics, consume, make_consumer, make_producer


async def a_case(sessions: async_sessionmaker[AsyncSession]) -> Case:
    now = datetime.now(UTC)
    beneficiary = Beneficiary(
        given_name="Awa",
        family_name="Ndiaye",
        sex=Sex.FEMALE,
        born_on=date(1994, 3, 17),
        nationality="SN",
        registering_office_id="de-berlin",
        registered_at=now,
    )
    case = Case(
        beneficiary_id=beneficiary.id,
        programme=Programme.RETURN_REINTEGRATION,
        stage=Stage.PRE_DEPARTURE_COUNSELLING,
        owner_office_id="de-berlin",
        opened_at=now,
    )
    async with CaseUnitOfWork(sessions) as uow:
        uow.beneficiaries.add(beneficiary)
        await uow.session.flush()
        uow.cases.add(case)
        await uow.commit()
    return case


def referral_of(case: Case, **fields: object) -> dict[str, object]:
    return {
        "referral_id": uuid.uuid4(),
        "case_id": case.id,
        "referring_office_id": "de-berlin",
        "destination_organisation_id": "iom-senegal",
        "destination_office_id": "sn-dakar",
        "destination_service_id": None,
    } | fields


def sent(referral: dict[str, object], version: int) -> ReferralSent:
    example = dict(ReferralSent.model_config["json_schema_extra"]["examples"][0])  # type: ignore[index]
    return ReferralSent.model_validate(example | referral | {"referral_version": version})


def record_of(event: ReferralEvent) -> bytes:
    return json_bytes(CloudEvent.wrap(event, source="/casebridge/referral-service").model_dump(mode="json"))


async def test_on_the_broker_a_referral_opens_and_closes_its_link_once_and_poison_is_parked(
    committed_sessions: async_sessionmaker[AsyncSession], kafka_topics: Topics, kafka_bootstrap: str
) -> None:
    assert ReferralSent.topic in CONSUMED_TOPICS
    case = await a_case(committed_sessions)
    referral = referral_of(case)
    topic = kafka_topics.name(ReferralSent.topic)
    dlq_topic = kafka_topics.name("casebridge.case-service.dlq")
    opened = record_of(sent(referral, 1))
    closed = record_of(ReferralCancelled.model_validate(referral | {"referral_version": 2}))
    stale = record_of(sent(referral, 1))  # a new event id with the old version: must not reopen
    poison = CloudEvent(source="/rs", type=ReferralSent.type, subject="poison", data={"referral_id": "x"})
    producer = make_producer(kafka_bootstrap, client_id="case-referral-links-test")
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
    key = str(referral["referral_id"]).encode()

    async def link() -> CaseReferralLink | None:
        async with CaseUnitOfWork(committed_sessions) as uow:
            return await uow.referral_links.get(uuid.UUID(str(referral["referral_id"])))

    try:
        for value in (opened, opened):  # redelivered
            await producer.send_and_wait(topic, key=key, value=value)
        async with asyncio.timeout(30):
            while (await link()) is None:  # noqa: ASYNC110 - polling a commit
                await asyncio.sleep(0.1)
        first = await link()
        await producer.send_and_wait(topic, key=key, value=closed)
        await producer.send_and_wait(topic, key=key, value=stale)
        # the same key, so the same partition: parked only after the events before it were handled
        await producer.send_and_wait(topic, key=key, value=json_bytes(poison.model_dump(mode="json")))
        parked: list[ConsumerRecord[bytes, bytes]] = []
        async with asyncio.timeout(30):
            while not parked:
                for records in (await dlq.getmany(timeout_ms=500)).values():
                    parked += records
        last = await link()
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
        await dlq.stop()
        await consumer.stop()
        await producer.stop()
    assert first is not None
    assert (first.active, first.destination_office_id, first.referral_version) == (True, "sn-dakar", 1)
    assert last is not None
    assert (last.active, last.referral_version) == (False, 2)
    assert [r.value for r in parked] == [json_bytes(poison.model_dump(mode="json"))]

"""Consent withdrawal, erasure and transfer as scoring-service consumes them, on real PostgreSQL (and Kafka)."""

import asyncio
import contextlib
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from casebridge_common.auth import Principal
from casebridge_common.events.contracts.case import BeneficiaryErased, CaseOpened, CaseTransferred, Programme
from casebridge_common.events.contracts.consent import ConsentWithdrawn, ScopeTerms, WithdrawalKind
from casebridge_common.events.envelope import CloudEvent, json_bytes
from casebridge_common.kafka import DeadLetters, Topics, consume, make_consumer, make_producer
from casebridge_common.outbox import OutboxMessage
from scoring_service.bootstrap import load_shipped_instruments
from scoring_service.consumers import handlers
from scoring_service.domain.errors import CaseNotFound
from scoring_service.domain.models import (
    BeneficiaryErasure,
    CaseRecord,
    ConsentForm,
    Instrument,
    InterviewMode,
    Score,
    Survey,
    WithdrawalReceipt,
)
from scoring_service.instruments.worked_examples import T3
from scoring_service.schemas import SubmitSurvey
from scoring_service.service_layer import surveys
from scoring_service.unit_of_work import ScoringUnitOfWork

CASE_SERVICE = "/casebridge/case-service"
ON = handlers(baseline_window_days=30)
M_AND_E = ScopeTerms(data_categories=["survey_responses", "scores"], purposes=["m_and_e"], offices=["de-berlin"])


def office(office_id: str, organisation_id: str) -> Principal:
    return Principal(
        subject=f"{office_id}-system",
        client_id=f"{office_id}-system",
        organisation_id=organisation_id,
        office_id=office_id,
        country=None,
        scopes=frozenset(),
        roles=frozenset(),
    )


@pytest.fixture
async def instruments(sessions: async_sessionmaker[AsyncSession]) -> None:
    await load_shipped_instruments(sessions)


@pytest.fixture
def organisation() -> str:
    """Indicators are per organisation: a fresh one keeps other tests' committed cases out of the counts."""
    return f"iom-test-{uuid.uuid4().hex[:8]}"


async def open_case(
    sessions: async_sessionmaker[AsyncSession], organisation: str, *, beneficiary_id: uuid.UUID | None = None
) -> CaseOpened:
    opened = CaseOpened(
        case_id=uuid.uuid4(),
        case_version=1,
        beneficiary_id=beneficiary_id or uuid.uuid4(),
        programme=Programme.RETURN_REINTEGRATION,
        owner_office_id="de-berlin",
        owner_organisation_id=organisation,
        opened_at=datetime.now(UTC),
    )
    await ON[CaseOpened.type](CloudEvent.wrap(opened, source=CASE_SERVICE), ScoringUnitOfWork(sessions))
    return opened


async def submit(sessions: async_sessionmaker[AsyncSession], case_id: uuid.UUID, who: Principal) -> Survey:
    body = SubmitSurvey(
        case_id=case_id,
        instrument=Instrument.RSS,
        instrument_version="rss-default-v0",
        administration="baseline",
        interviewed_on=date(2026, 12, 1),
        mode=InterviewMode.IN_PERSON,
        consent_form=ConsentForm.WRITTEN,
        interviewer_independent_of_case=True,
        answers=T3,
    )
    async with ScoringUnitOfWork(sessions) as uow:
        survey, _ = await surveys.submit_survey(uow, body, actor=who, now=datetime.now(UTC))
        await uow.commit()
    return survey


def withdrawal(
    opened: CaseOpened, *scopes: ScopeTerms, case_ids: list[uuid.UUID] | None = None
) -> tuple[ConsentWithdrawn, CloudEvent]:
    withdrawn = ConsentWithdrawn(
        consent_id=uuid.uuid4(),
        beneficiary_id=opened.beneficiary_id,
        case_ids=[opened.case_id] if case_ids is None else case_ids,
        owner_office_id=opened.owner_office_id,
        withdrawal_id=uuid.uuid4(),
        kind=WithdrawalKind.WITHDRAWN,
        superseded_by=None,
        withdrawn_scopes=list(scopes) or [M_AND_E],
        withdrawn_at=datetime.now(UTC),
        acknowledge_by=datetime.now(UTC) + timedelta(days=1),
    )
    return withdrawn, CloudEvent.wrap(withdrawn, source=CASE_SERVICE)


async def administrations(sessions: async_sessionmaker[AsyncSession], organisation: str) -> int:
    """The administrations the indicators count, before aggregation: the published counts are perturbed."""
    async with ScoringUnitOfWork(sessions) as uow:
        facts = await uow.indicators.facts(
            organisation_id=organisation,
            instrument_code=Instrument.RSS,
            programme=None,
            interviewed_from=None,
            interviewed_to=None,
        )
    return len(facts)


async def acknowledgements(sessions: async_sessionmaker[AsyncSession], withdrawal_id: uuid.UUID) -> list[OutboxMessage]:
    async with ScoringUnitOfWork(sessions) as uow:
        return list(
            (await uow.session.scalars(select(OutboxMessage).where(col(OutboxMessage.key) == str(withdrawal_id)))).all()
        )


@pytest.mark.usefixtures("instruments")
async def test_the_same_m_and_e_withdrawal_twice_excludes_the_case_from_indicators_and_acknowledges_once(
    sessions: async_sessionmaker[AsyncSession], organisation: str
) -> None:
    berlin = office("de-berlin", organisation)
    withdrawing, staying = await open_case(sessions, organisation), await open_case(sessions, organisation)
    survey = await submit(sessions, withdrawing.case_id, berlin)
    await submit(sessions, staying.case_id, berlin)
    assert await administrations(sessions, organisation) == 2

    withdrawn, event = withdrawal(withdrawing)
    for _ in range(2):  # Kafka redelivers: at-least-once
        await ON[ConsentWithdrawn.type](event, ScoringUnitOfWork(sessions))

    assert await administrations(sessions, organisation) == 1
    [ack] = await acknowledgements(sessions, withdrawn.withdrawal_id)
    assert ack.topic == "casebridge.consent.acknowledgements.v1"
    assert ack.event["type"] == "casebridge.consent.withdrawal_acknowledged.v1"
    assert {k: ack.event["data"][k] for k in ("holder", "purged", "redacted", "consent_id")} == {
        "holder": "scoring-service",
        "purged": 0,
        "redacted": 1,
        "consent_id": str(withdrawn.consent_id),
    }
    async with ScoringUnitOfWork(sessions) as uow:
        receipt = await uow.receipts.get(withdrawn.withdrawal_id)
        # case management goes on: the owner office still reads the survey it holds
        kept, _ = await surveys.get_survey(uow, survey.id, actor=berlin)
    assert receipt is not None
    assert (receipt.concerned_survey_data, receipt.cases_excluded, receipt.surveys_excluded) == (True, 1, 1)
    assert kept.answers is not None


@pytest.mark.usefixtures("instruments")
async def test_surveys_submitted_after_the_withdrawal_stay_out_of_the_indicators(
    sessions: async_sessionmaker[AsyncSession], organisation: str
) -> None:
    opened = await open_case(sessions, organisation)
    await ON[ConsentWithdrawn.type](withdrawal(opened)[1], ScoringUnitOfWork(sessions))
    await submit(sessions, opened.case_id, office("de-berlin", organisation))
    assert await administrations(sessions, organisation) == 0


@pytest.mark.usefixtures("instruments")
async def test_a_withdrawal_not_about_survey_data_is_acknowledged_with_nothing_done(
    sessions: async_sessionmaker[AsyncSession], organisation: str
) -> None:
    opened = await open_case(sessions, organisation)
    await submit(sessions, opened.case_id, office("de-berlin", organisation))
    referral_only = ScopeTerms(
        data_categories=["contact"], purposes=["referral_service_delivery"], organisations=["cfp-dakar"]
    )
    someone_else_s_research = ScopeTerms(
        data_categories=["survey_responses"], purposes=["research"], organisations=["uni-research"]
    )
    withdrawn, event = withdrawal(opened, referral_only, someone_else_s_research)
    await ON[ConsentWithdrawn.type](event, ScoringUnitOfWork(sessions))

    assert await administrations(sessions, organisation) == 1
    [ack] = await acknowledgements(sessions, withdrawn.withdrawal_id)
    assert (ack.event["data"]["purged"], ack.event["data"]["redacted"]) == (0, 0)
    async with ScoringUnitOfWork(sessions) as uow:
        receipt = await uow.receipts.get(withdrawn.withdrawal_id)
    assert receipt is not None
    assert (receipt.concerned_survey_data, receipt.cases_excluded) == (False, 0)


@pytest.mark.usefixtures("instruments")
async def test_a_withdrawal_naming_the_owning_organisation_or_no_one_excludes_the_case(
    sessions: async_sessionmaker[AsyncSession], organisation: str
) -> None:
    by_organisation, unnamed = await open_case(sessions, organisation), await open_case(sessions, organisation)
    for opened in (by_organisation, unnamed):
        await submit(sessions, opened.case_id, office("de-berlin", organisation))
    organisation_scope = ScopeTerms(
        data_categories=["scores"], purposes=["case_management"], organisations=[organisation]
    )
    everyone = ScopeTerms(data_categories=["identity_biodata"], purposes=["aggregate_reporting"])
    await ON[ConsentWithdrawn.type](withdrawal(by_organisation, organisation_scope)[1], ScoringUnitOfWork(sessions))
    await ON[ConsentWithdrawn.type](withdrawal(unnamed, everyone)[1], ScoringUnitOfWork(sessions))
    assert await administrations(sessions, organisation) == 0


@pytest.mark.usefixtures("instruments")
async def test_a_withdrawal_consumed_before_the_case_opened_still_keeps_the_case_out_of_analysis(
    sessions: async_sessionmaker[AsyncSession], organisation: str
) -> None:
    later = CaseOpened(
        case_id=uuid.uuid4(),
        case_version=1,
        beneficiary_id=uuid.uuid4(),
        programme=Programme.RETURN_REINTEGRATION,
        owner_office_id="de-berlin",
        owner_organisation_id=organisation,
        opened_at=datetime.now(UTC),
    )
    withdrawn, event = withdrawal(later)  # the consent topic overtook the case topic
    await ON[ConsentWithdrawn.type](event, ScoringUnitOfWork(sessions))
    await ON[CaseOpened.type](CloudEvent.wrap(later, source=CASE_SERVICE), ScoringUnitOfWork(sessions))
    await submit(sessions, later.case_id, office("de-berlin", organisation))
    assert await administrations(sessions, organisation) == 0
    assert len(await acknowledgements(sessions, withdrawn.withdrawal_id)) == 1


@pytest.mark.usefixtures("instruments")
async def test_erasure_purges_answers_scores_and_schedules_and_leaves_a_trace_of_ids_and_counts(
    sessions: async_sessionmaker[AsyncSession], organisation: str
) -> None:
    berlin = office("de-berlin", organisation)
    beneficiary_id = uuid.uuid4()
    first = await open_case(sessions, organisation, beneficiary_id=beneficiary_id)
    second = await open_case(sessions, organisation, beneficiary_id=beneficiary_id)
    await submit(sessions, first.case_id, berlin)
    await submit(sessions, second.case_id, berlin)
    erased = BeneficiaryErased(
        beneficiary_id=beneficiary_id, case_ids=[first.case_id, second.case_id], erased_at=datetime.now(UTC)
    )
    event = CloudEvent.wrap(erased, source=CASE_SERVICE)
    for _ in range(2):
        await ON[BeneficiaryErased.type](event, ScoringUnitOfWork(sessions))

    case_ids = [first.case_id, second.case_id]
    async with ScoringUnitOfWork(sessions) as uow:
        left = [
            (await uow.session.scalars(select(model).where(col(model.case_id).in_(case_ids)))).all()
            for model in (Survey, Score)
        ]
        schedules = [await uow.surveys.for_case(c) for c in case_ids]
        cases = [await uow.cases.get(c) for c in case_ids]
        trace = await uow.session.get(BeneficiaryErasure, beneficiary_id)
        with pytest.raises(CaseNotFound):
            await surveys.visible_case(uow, first.case_id, actor=berlin)
    assert left == [[], []]
    assert schedules == [[], []]
    assert [(c.beneficiary_id, c.erased_at is not None) for c in cases if c is not None] == [(None, True)] * 2
    assert trace is not None
    assert (trace.surveys_purged, trace.scores_purged, sorted(trace.case_ids)) == (2, 2, sorted(case_ids))
    assert trace.schedules_purged >= 2
    assert await administrations(sessions, organisation) == 0


async def test_an_erasure_that_overtakes_the_case_opening_leaves_the_case_unscheduled(
    sessions: async_sessionmaker[AsyncSession], organisation: str
) -> None:
    beneficiary_id = uuid.uuid4()
    erased = BeneficiaryErased(beneficiary_id=beneficiary_id, case_ids=[], erased_at=datetime.now(UTC))
    await ON[BeneficiaryErased.type](CloudEvent.wrap(erased, source=CASE_SERVICE), ScoringUnitOfWork(sessions))
    opened = await open_case(sessions, organisation, beneficiary_id=beneficiary_id)
    async with ScoringUnitOfWork(sessions) as uow:
        case = await uow.cases.get(opened.case_id)
        assert await uow.surveys.for_case(opened.case_id) == []
    assert case is not None
    assert (case.beneficiary_id, case.erased_at is not None) == (None, True)


@pytest.mark.usefixtures("instruments")
async def test_a_transfer_hands_the_case_and_its_open_schedules_to_the_new_owner_office(
    sessions: async_sessionmaker[AsyncSession], organisation: str
) -> None:
    berlin, dakar = office("de-berlin", organisation), office("sn-dakar", "iom-senegal")
    opened = await open_case(sessions, organisation)
    survey = await submit(sessions, opened.case_id, berlin)

    def transferred(version: int) -> CloudEvent:
        return CloudEvent.wrap(
            CaseTransferred(
                case_id=opened.case_id,
                transfer_id=uuid.uuid4(),
                from_office_id="de-berlin",
                to_office_id="sn-dakar",
                to_organisation_id="iom-senegal",
                case_version=version,
                transferred_at=datetime.now(UTC),
            ),
            source=CASE_SERVICE,
        )

    await ON[CaseTransferred.type](transferred(7), ScoringUnitOfWork(sessions))
    stale = transferred(1)
    stale.data["to_office_id"] = "iq-erbil"
    await ON[CaseTransferred.type](stale, ScoringUnitOfWork(sessions))

    async with ScoringUnitOfWork(sessions) as uow:
        case = await uow.session.get(CaseRecord, opened.case_id)
        history, _ = await surveys.get_survey(uow, survey.id, actor=dakar)
        schedules = await surveys.schedules_for_case(uow, opened.case_id, actor=dakar)
        assert await surveys.schedules_for_case(uow, opened.case_id, actor=berlin) == []
        with pytest.raises(CaseNotFound):
            await surveys.visible_case(uow, opened.case_id, actor=berlin)
    assert case is not None
    assert (case.owner_office_id, case.owner_organisation_id, case.case_version) == ("sn-dakar", "iom-senegal", 7)
    assert history.id == survey.id
    assert {(s.status, s.owner_office_id) for s in schedules} == {("completed", "de-berlin"), ("due", "sn-dakar")}


async def test_on_the_broker_a_redelivered_withdrawal_is_acknowledged_once_and_a_poison_one_is_parked(
    committed_sessions: async_sessionmaker[AsyncSession], kafka_topics: Topics, kafka_bootstrap: str
) -> None:
    topic, dlq_topic = kafka_topics.name(ConsentWithdrawn.topic), kafka_topics.name("casebridge.scoring-service.dlq")
    opened = await open_case(committed_sessions, "iom-germany")
    withdrawn, event = withdrawal(opened)
    poison = CloudEvent(source=CASE_SERVICE, type=ConsentWithdrawn.type, subject="s", data={"withdrawal_id": "x"})
    producer = make_producer(kafka_bootstrap, client_id="scoring-withdrawal-test")
    await producer.start()
    consumer = make_consumer(kafka_bootstrap, [topic], group_id=f"g-{uuid.uuid4().hex[:8]}")
    await consumer.start()
    loop = asyncio.create_task(
        consume(consumer, ON, lambda: ScoringUnitOfWork(committed_sessions), DeadLetters(producer, dlq_topic))
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
    async with ScoringUnitOfWork(committed_sessions) as uow:
        assert (await uow.session.scalars(select(WithdrawalReceipt))).all() != []

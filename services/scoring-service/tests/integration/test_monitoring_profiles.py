"""The pseudonymous monitoring feed as scoring-service consumes it, and the indicators it disaggregates, on real
PostgreSQL: idempotent and out-of-order safe storage, the new dimensions with suppression, the return-to-plan
indicator, exclusion on an M&E withdrawal and re-admission on a new M&E consent, and erasure."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casebridge_common.access import ConsentStatus
from casebridge_common.auth import Principal
from casebridge_common.events.contracts.case import BeneficiaryErased, CaseMonitoringProfile, CaseOpened, Programme
from casebridge_common.events.contracts.consent import ConsentGiven, ConsentWithdrawn, ScopeTerms, WithdrawalKind
from casebridge_common.events.envelope import CloudEvent
from scoring_service.bootstrap import load_shipped_instruments
from scoring_service.consumers import CONSUMED_TOPICS, handlers
from scoring_service.domain.indicators import UNDISCLOSED, CaseGroupBy, GroupBy
from scoring_service.domain.models import ConsentForm, Instrument, InterviewMode
from scoring_service.instruments.worked_examples import T3
from scoring_service.schemas import IndicatorReport, SubmitSurvey, TimelineReport
from scoring_service.service_layer import indicators, surveys
from scoring_service.unit_of_work import ScoringUnitOfWork

CASE_SERVICE = "/casebridge/case-service"
ON = handlers(baseline_window_days=30)
KEY = b"integration-test-perturbation-key-0123"


def near(count: int | None, exact: int) -> bool:
    """A perturbed count: within 2 of the exact one."""
    return count is not None and abs(count - exact) <= 2


Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def instruments(sessions: Sessions) -> None:
    await load_shipped_instruments(sessions)


@pytest.fixture
def organisation() -> str:
    """Indicators are per organisation: a fresh one keeps other tests' committed cases out of the counts."""
    return f"iom-test-{uuid.uuid4().hex[:8]}"


def analyst(organisation: str) -> Principal:
    return Principal(
        subject="m-and-e",
        client_id="de-berlin-system",
        organisation_id=organisation,
        office_id="de-berlin",
        country=None,
        scopes=frozenset(),
        roles=frozenset(),
    )


async def open_case(sessions: Sessions, organisation: str) -> CaseOpened:
    opened = CaseOpened(
        case_id=uuid.uuid4(),
        case_version=1,
        beneficiary_id=uuid.uuid4(),
        programme=Programme.RETURN_REINTEGRATION,
        owner_office_id="de-berlin",
        owner_organisation_id=organisation,
        opened_at=datetime.now(UTC),
    )
    await ON[CaseOpened.type](CloudEvent.wrap(opened, source=CASE_SERVICE), ScoringUnitOfWork(sessions))
    return opened


def profile_event(opened: CaseOpened, version: int, **facts: object) -> CloudEvent:
    profile = CaseMonitoringProfile.model_validate(
        {
            "case_id": opened.case_id,
            "beneficiary_id": opened.beneficiary_id,
            "programme": opened.programme,
            "owner_office_id": opened.owner_office_id,
            "owner_organisation_id": opened.owner_organisation_id,
            "profile_version": version,
            "as_of": datetime.now(UTC),
            **facts,
        }
    )
    return CloudEvent.wrap(profile, source=CASE_SERVICE)


async def deliver(sessions: Sessions, event: CloudEvent) -> None:
    await ON[event.type](event, ScoringUnitOfWork(sessions))


async def submit(sessions: Sessions, opened: CaseOpened) -> None:
    body = SubmitSurvey(
        case_id=opened.case_id,
        instrument=Instrument.RSS,
        instrument_version="rss-default-v0",
        administration="baseline",
        interviewed_on=date(2026, 12, 1),
        mode=InterviewMode.IN_PERSON,
        consent_form=ConsentForm.WRITTEN,
        interviewer_independent_of_case=True,
        answers=T3,
    )
    who = analyst(str(opened.owner_organisation_id))
    async with ScoringUnitOfWork(sessions) as uow:
        await surveys.submit_survey(uow, body, actor=who, now=datetime.now(UTC))
        await uow.commit()


async def by(sessions: Sessions, organisation: str, *group_by: GroupBy, minimum: int = 5) -> IndicatorReport:
    async with ScoringUnitOfWork(sessions) as uow:
        return await indicators.score_indicators(
            uow,
            actor=analyst(organisation),
            instrument=Instrument.RSS,
            group_by=list(group_by),
            programme=None,
            interviewed_from=None,
            interviewed_to=None,
            minimum_count=minimum,
            perturbation_key=KEY,
        )


async def timelines(sessions: Sessions, organisation: str, *group_by: CaseGroupBy) -> TimelineReport:
    async with ScoringUnitOfWork(sessions) as uow:
        return await indicators.return_to_plan_indicators(
            uow,
            actor=analyst(organisation),
            group_by=list(group_by),
            programme=None,
            returned_from=None,
            returned_to=None,
            minimum_count=4,  # a cell of 6 cases always shows at 4, whatever its noise (±2)
            perturbation_key=KEY,
        )


def test_the_worker_subscribes_to_the_monitoring_topic() -> None:
    assert CaseMonitoringProfile.topic in CONSUMED_TOPICS
    assert {CaseMonitoringProfile.type, ConsentGiven.type} <= set(ON)


async def test_a_profile_is_stored_once_and_only_a_newer_version_replaces_it(
    sessions: Sessions, organisation: str
) -> None:
    opened = await open_case(sessions, organisation)
    newer = profile_event(opened, 20, sex="female", age_group="18-24", country_of_origin="SN")
    for _ in range(2):  # at-least-once delivery
        await deliver(sessions, newer)
    await deliver(sessions, profile_event(opened, 10, sex="male", return_quarter="2026-Q4"))  # overtaken
    async with ScoringUnitOfWork(sessions) as uow:
        held = await uow.profiles.get(opened.case_id)
    assert held is not None
    assert (held.profile_version, held.sex, held.age_group, held.return_quarter) == (20, "female", "18-24", None)
    await deliver(sessions, profile_event(opened, 25, sex="female", return_quarter="2026-Q4", days_return_to_plan=-2))
    await deliver(sessions, profile_event(opened, 30))  # the consent was withdrawn: facts no longer disclosed
    async with ScoringUnitOfWork(sessions) as uow:
        held = await uow.profiles.get(opened.case_id)
    assert held is not None
    assert (held.profile_version, held.sex, held.country_of_origin, held.return_quarter, held.days_return_to_plan) == (
        30,
        None,
        None,
        None,
        None,
    )


@pytest.mark.usefixtures("instruments")
async def test_indicators_disaggregate_by_sex_age_and_countries_with_undisclosed_cells_and_suppression(
    sessions: Sessions, organisation: str
) -> None:
    for n in range(12):
        opened = await open_case(sessions, organisation)
        if n < 6:
            facts = {"sex": "female", "age_group": "25-34", "country_of_origin": "SN", "country_of_return": "SN"}
            await deliver(sessions, profile_event(opened, 1, **facts))
        elif n < 7:
            await deliver(sessions, profile_event(opened, 1, sex="male", country_of_origin="GM"))
        await submit(sessions, opened)  # cases 7..11 have no profile at all: undisclosed
    # a cell of 6 cases always shows at minimum 4, whatever its noise (±2)
    female, *small = (await by(sessions, organisation, GroupBy.SEX, minimum=4)).cells
    assert (female.group, female.suppressed, near(female.administrations, 6)) == ({"sex": "female"}, False, True)
    assert [(c.group, c.suppressed, c.administrations) for c in small] == [
        ({"sex": "male"}, True, None),
        ({"sex": UNDISCLOSED}, True, None),  # 5 would reveal the lone male case from the total
    ]
    origin = await by(sessions, organisation, GroupBy.COUNTRY_OF_ORIGIN, minimum=2)
    assert [(c.group["country_of_origin"], c.suppressed) for c in origin.cells] == [
        ("GM", True),
        ("SN", False),
        (UNDISCLOSED, True),  # the next-smallest beside the lone GM cell
    ]
    assert near(origin.cells[1].administrations, 6)
    ages = await by(sessions, organisation, GroupBy.AGE_GROUP, GroupBy.COUNTRY_OF_RETURN, minimum=4)
    assert [(c.group, near(c.administrations, 6)) for c in ages.cells] == [
        ({"age_group": "25-34", "country_of_return": "SN"}, True),
        ({"age_group": UNDISCLOSED, "country_of_return": UNDISCLOSED}, True),
    ]


@pytest.mark.usefixtures("instruments")
async def test_the_return_facts_are_stored_and_disaggregate_scores_and_return_to_plan_with_suppression(
    sessions: Sessions, organisation: str
) -> None:
    cases = []
    for n in range(11):
        opened = await open_case(sessions, organisation)
        cases.append(opened.case_id)
        facts: dict[str, object] = {"return_quarter": "2026-Q4", "days_return_to_plan": 10}
        if n < 6:
            facts |= {"mode_of_return": "avrr_voluntary", "host_country": "DE", "length_of_absence": "3-5"}
        elif n < 7:
            facts |= {"mode_of_return": "forced_deported", "host_country": "FR", "length_of_absence": ">10"}
        await deliver(sessions, profile_event(opened, 1, **facts))
        await submit(sessions, opened)  # cases 7..10: no return profile recorded, undisclosed
    async with ScoringUnitOfWork(sessions) as uow:
        stored = [await uow.profiles.get(cases[n]) for n in (0, 10)]
    assert [(p.mode_of_return, p.host_country, p.length_of_absence) for p in stored if p is not None] == [
        ("avrr_voluntary", "DE", "3-5"),
        (None, None, None),
    ]
    avrr, *small = (await by(sessions, organisation, GroupBy.MODE_OF_RETURN, minimum=4)).cells
    assert (avrr.group, avrr.suppressed, near(avrr.administrations, 6)) == (
        {"mode_of_return": "avrr_voluntary"},
        False,
        True,
    )
    assert [(c.group, c.suppressed, c.administrations) for c in small] == [
        ({"mode_of_return": "forced_deported"}, True, None),
        ({"mode_of_return": UNDISCLOSED}, True, None),  # 4 cases: below 4 after its noise, or beside the lone one
    ]
    hosts = await by(sessions, organisation, GroupBy.HOST_COUNTRY, GroupBy.LENGTH_OF_ABSENCE, minimum=2)
    assert [c.group for c in hosts.cells] == [
        {"host_country": "DE", "length_of_absence": "3-5"},
        {"host_country": "FR", "length_of_absence": ">10"},
        {"host_country": UNDISCLOSED, "length_of_absence": UNDISCLOSED},
    ]
    assert near(hosts.cells[0].administrations, 6)
    absence, *hidden = (await timelines(sessions, organisation, CaseGroupBy.LENGTH_OF_ABSENCE)).cells
    assert (absence.group, absence.suppressed, near(absence.cases, 6)) == ({"length_of_absence": "3-5"}, False, True)
    assert absence.median_days_return_to_plan == pytest.approx(10.0, abs=30 / 6 + 0.05)
    assert [(c.group, c.suppressed, c.cases, c.median_days_return_to_plan) for c in hidden] == [
        ({"length_of_absence": ">10"}, True, None, None),
        ({"length_of_absence": UNDISCLOSED}, True, None, None),
    ]


async def test_time_from_return_to_plan_approval_is_reported_per_cell_with_suppression(
    sessions: Sessions, organisation: str
) -> None:
    for days in (3, 5, 8, 13, 21, 34):
        opened = await open_case(sessions, organisation)
        facts: dict[str, object] = {"sex": "female", "return_quarter": "2026-Q4", "days_return_to_plan": days}
        await deliver(sessions, profile_event(opened, 1, **facts))
    for sex in ("male", None, None):
        facts = {"sex": sex, "return_quarter": "2026-Q4", "days_return_to_plan": 31}
        await deliver(sessions, profile_event(await open_case(sessions, organisation), 1, **facts))
    await deliver(sessions, profile_event(await open_case(sessions, organisation), 1, return_quarter="2026-Q4"))
    female, *small = (await timelines(sessions, organisation, CaseGroupBy.SEX)).cells
    assert (female.group, female.suppressed, near(female.cases, 6)) == ({"sex": "female"}, False, True)
    assert female.median_days_return_to_plan == pytest.approx(10.5, abs=30 / 6 + 0.05)
    assert [(c.group, c.suppressed, c.cases, c.median_days_return_to_plan) for c in small] == [
        ({"sex": "male"}, True, None, None),
        ({"sex": UNDISCLOSED}, True, None, None),
    ]
    [total] = (await timelines(sessions, organisation)).cells
    assert near(total.cases, 9)  # the case without a plan is not counted
    assert total.median_days_return_to_plan == pytest.approx(21.0, abs=30 / 9 + 0.05)


def given(opened: CaseOpened, scope: ScopeTerms) -> CloudEvent:
    consent = ConsentGiven(
        consent_id=uuid.uuid4(),
        beneficiary_id=opened.beneficiary_id,
        case_ids=[opened.case_id],
        owner_office_id=opened.owner_office_id,
        status=ConsentStatus.GIVEN,
        renewed=False,
        supersedes=None,
        scopes=[scope],
        valid_from=datetime.now(UTC) - timedelta(minutes=1),
        valid_until=None,
    )
    return CloudEvent.wrap(consent, source=CASE_SERVICE)


def withdrawn(opened: CaseOpened, scope: ScopeTerms) -> CloudEvent:
    withdrawal = ConsentWithdrawn(
        consent_id=uuid.uuid4(),
        beneficiary_id=opened.beneficiary_id,
        case_ids=[opened.case_id],
        owner_office_id=opened.owner_office_id,
        withdrawal_id=uuid.uuid4(),
        kind=WithdrawalKind.WITHDRAWN,
        superseded_by=None,
        withdrawn_scopes=[scope],
        withdrawn_at=datetime.now(UTC),
        acknowledge_by=datetime.now(UTC) + timedelta(days=1),
    )
    return CloudEvent.wrap(withdrawal, source=CASE_SERVICE)


async def administrations(sessions: Sessions, organisation: str) -> int:
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


@pytest.mark.usefixtures("instruments")
async def test_an_m_and_e_withdrawal_excludes_the_case_and_a_later_m_and_e_consent_readmits_it(
    sessions: Sessions, organisation: str
) -> None:
    opened = await open_case(sessions, organisation)
    await submit(sessions, opened)
    m_and_e = ScopeTerms(data_categories=["survey_responses", "scores"], purposes=["m_and_e"], offices=["de-berlin"])
    await deliver(sessions, withdrawn(opened, m_and_e))
    assert await administrations(sessions, organisation) == 0

    not_analysis = ScopeTerms(data_categories=["scores"], purposes=["case_management"], organisations=[organisation])
    await deliver(sessions, given(opened, not_analysis))
    assert await administrations(sessions, organisation) == 0

    again = given(opened, ScopeTerms(data_categories=["scores"], purposes=["m_and_e"], organisations=[organisation]))
    for _ in range(2):
        await deliver(sessions, again)
    assert await administrations(sessions, organisation) == 1
    async with ScoringUnitOfWork(sessions) as uow:
        assert await uow.exclusions.lift([opened.case_id]) == []  # nothing left to lift

    await deliver(sessions, withdrawn(opened, m_and_e))  # a new withdrawal excludes it again
    assert await administrations(sessions, organisation) == 0


async def test_erasure_purges_the_profile_and_drops_later_ones(sessions: Sessions, organisation: str) -> None:
    opened = await open_case(sessions, organisation)
    await deliver(sessions, profile_event(opened, 1, sex="female"))
    erased = BeneficiaryErased(
        beneficiary_id=opened.beneficiary_id, case_ids=[opened.case_id], erased_at=datetime.now(UTC)
    )
    await deliver(sessions, CloudEvent.wrap(erased, source=CASE_SERVICE))
    await deliver(sessions, profile_event(opened, 2, sex="female"))
    async with ScoringUnitOfWork(sessions) as uow:
        assert await uow.profiles.get(opened.case_id) is None

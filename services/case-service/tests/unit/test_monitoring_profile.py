"""The pseudonymous monitoring profile: which facts each consent situation lets out, and the age bands."""

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from case_service.domain.models import Beneficiary, Case, Sex, age_in_years
from case_service.domain.monitoring import (
    MonitoringProfilePending,
    Timeline,
    absence_band,
    age_group,
    monitoring_profile,
    publication_cutoff,
    weeks_in_days,
)
from case_service.domain.stages import Stage
from casebridge_common.access import (
    ConsentFacts,
    ConsentScope,
    ConsentStatus,
    DataCategory,
    GivenBy,
    Purpose,
    Recipients,
)
from casebridge_common.events.contracts.case import (
    AbsenceBand,
    AgeGroup,
    CaseMonitoringProfile,
    ModeOfReturn,
    Programme,
)

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
IDENTITY, MIGRATION = DataCategory.IDENTITY_BIODATA, DataCategory.MIGRATION_HISTORY


def a_beneficiary(born_on: date = date(1994, 3, 17)) -> Beneficiary:
    return Beneficiary(
        given_name="Awa",
        family_name="Ndiaye",
        sex=Sex.FEMALE,
        born_on=born_on,
        nationality="SN",
        registering_office_id="de-berlin",
        registered_at=NOW,
        country_of_origin="SN",
        country_of_return="SN",
        country_of_resettlement="CA",
    )


def a_case(beneficiary: Beneficiary, *, programme: Programme = Programme.RETURN_REINTEGRATION) -> Case:
    return Case(
        beneficiary_id=beneficiary.id,
        programme=programme,
        stage=Stage.PRE_DEPARTURE_COUNSELLING,
        owner_office_id="de-berlin",
        owner_organisation_id="iom-germany",
        opened_at=NOW - timedelta(days=30),
        stage_changed_at=NOW - timedelta(days=30),
    )


def consent(
    *categories: DataCategory,
    purpose: Purpose = Purpose.M_AND_E,
    organisations: frozenset[str] = frozenset({"iom-germany"}),
    status: ConsentStatus = ConsentStatus.GIVEN,
    valid_until: datetime | None = None,
    given_by: GivenBy = GivenBy.SELF,
    child_assent: bool = False,
) -> ConsentFacts:
    return ConsentFacts(
        consent_id=uuid.uuid4(),
        status=status,
        given_by=given_by,
        scopes=(
            ConsentScope(
                categories=frozenset(categories),
                purposes=frozenset({purpose}),
                recipients=Recipients(organisations=organisations),
            ),
        ),
        valid_from=NOW - timedelta(days=60),
        valid_until=valid_until,
        child_assent=child_assent,
    )


def profile(
    *consents: ConsentFacts,
    beneficiary: Beneficiary | None = None,
    case: Case | None = None,
    minor: bool = False,
    plan_approved_at: datetime | None = None,
    published: Timeline | None = None,
    now: datetime = NOW,
) -> CaseMonitoringProfile:
    beneficiary = beneficiary or a_beneficiary()
    case = case or a_case(beneficiary)
    return monitoring_profile(
        case,
        beneficiary,
        consents,
        subject_is_minor=minor,
        timeline=published or Timeline.of(case, returned_on=case.returned_on, first_plan_approved_at=plan_approved_at),
        version=7,
        now=now,
    )


def personal(p: CaseMonitoringProfile) -> tuple[object, ...]:
    return (p.sex, p.age_group, p.country_of_origin, p.country_of_return)


def test_without_consent_the_profile_carries_ids_and_case_facts_only() -> None:
    p = profile()
    assert personal(p) == (None, None, None, None)
    assert (p.programme, p.owner_office_id, p.owner_organisation_id, p.profile_version) == (
        "return_reintegration",
        "de-berlin",
        "iom-germany",
        7,
    )
    assert "born_on" not in p.model_dump()


def test_m_and_e_consent_to_identity_and_migration_history_discloses_every_banded_fact() -> None:
    p = profile(consent(IDENTITY, MIGRATION))
    assert personal(p) == ("female", AgeGroup.ADULT_25_34, "SN", "SN")


def test_identity_consent_alone_keeps_the_country_of_return_back() -> None:
    assert personal(profile(consent(IDENTITY))) == ("female", AgeGroup.ADULT_25_34, "SN", None)


def test_a_resettlement_profile_names_the_country_of_resettlement() -> None:
    beneficiary = a_beneficiary()
    case = a_case(beneficiary, programme=Programme.RESETTLEMENT_INTEGRATION)
    assert profile(consent(MIGRATION), beneficiary=beneficiary, case=case).country_of_return == "CA"


@pytest.mark.parametrize(
    "situation",
    [
        consent(IDENTITY, MIGRATION, purpose=Purpose.CASE_MANAGEMENT),  # another purpose
        consent(IDENTITY, MIGRATION, organisations=frozenset({"cfp-dakar"})),  # another recipient
        consent(IDENTITY, MIGRATION, status=ConsentStatus.WITHDRAWN),
        consent(IDENTITY, MIGRATION, valid_until=NOW - timedelta(days=1)),  # lapsed
    ],
    ids=["other-purpose", "other-recipient", "withdrawn", "expired"],
)
def test_a_consent_not_in_force_for_m_and_e_by_the_owner_discloses_nothing(situation: ConsentFacts) -> None:
    assert personal(profile(situation)) == (None, None, None, None)


def test_a_childs_profile_needs_a_guardians_consent_and_the_childs_assent() -> None:
    child = a_beneficiary(born_on=date(2015, 5, 1))
    own = profile(consent(IDENTITY), beneficiary=child, minor=True)
    guarded = profile(consent(IDENTITY, given_by=GivenBy.PARENT, child_assent=True), beneficiary=child, minor=True)
    assert own.sex is None
    assert (guarded.sex, guarded.age_group) == ("female", AgeGroup.CHILD)


def timeline(p: CaseMonitoringProfile) -> tuple[object, ...]:
    return (p.return_quarter, p.days_return_to_plan)


def test_the_timeline_is_a_quarter_and_a_day_count_under_m_and_e_consent_to_migration_history() -> None:
    beneficiary = a_beneficiary()
    case = a_case(beneficiary)
    case.stage, case.returned_on = Stage.ASSESSMENT, date(2026, 11, 20)
    approved = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    assert timeline(profile(beneficiary=beneficiary, case=case, plan_approved_at=approved)) == (None, None)
    identity_only = profile(consent(IDENTITY), beneficiary=beneficiary, case=case, plan_approved_at=approved)
    assert timeline(identity_only) == (None, None)
    other_purpose = consent(MIGRATION, purpose=Purpose.CASE_MANAGEMENT)
    assert timeline(profile(other_purpose, beneficiary=beneficiary, case=case, plan_approved_at=approved)) == (
        None,
        None,
    )
    consented = profile(consent(MIGRATION), beneficiary=beneficiary, case=case, plan_approved_at=approved)
    assert timeline(consented) == ("2026-Q4", 7)  # 10 days, published in whole weeks
    dumped = consented.model_dump()
    assert {"returned_on", "first_plan_approved_at"}.isdisjoint(dumped)  # never an exact date


def test_the_days_to_the_plan_wait_for_both_days_and_count_negative_for_a_plan_approved_before_return() -> None:
    beneficiary = a_beneficiary()
    case = a_case(beneficiary)
    given = consent(MIGRATION)
    assert timeline(profile(given, beneficiary=beneficiary, case=case)) == (None, None)  # not returned yet
    early = datetime(2026, 9, 28, 9, 0, tzinfo=UTC)
    assert timeline(profile(given, beneficiary=beneficiary, case=case, plan_approved_at=early)) == (None, None)
    case.returned_on = date(2026, 10, 1)
    assert timeline(profile(given, beneficiary=beneficiary, case=case)) == ("2026-Q4", None)  # no plan yet
    assert timeline(profile(given, beneficiary=beneficiary, case=case, plan_approved_at=early)) == ("2026-Q4", 0)
    case.returned_on = date(2026, 9, 30)
    assert profile(given, beneficiary=beneficiary, case=case).return_quarter == "2026-Q3"


def a_returnee_case(beneficiary: Beneficiary) -> Case:
    case = a_case(beneficiary)
    case.mode_of_return, case.host_country = ModeOfReturn.AVRR_VOLUNTARY, "DE"
    case.length_of_absence_years = Decimal("4.5")
    return case


def return_facts(p: CaseMonitoringProfile) -> tuple[object, ...]:
    return (p.mode_of_return, p.host_country, p.length_of_absence)


def test_the_return_profile_facts_need_m_and_e_consent_to_migration_history() -> None:
    beneficiary = a_beneficiary()
    case = a_returnee_case(beneficiary)
    assert return_facts(profile(beneficiary=beneficiary, case=case)) == (None, None, None)
    assert return_facts(profile(consent(IDENTITY), beneficiary=beneficiary, case=case)) == (None, None, None)
    assert return_facts(profile(consent(MIGRATION), beneficiary=beneficiary, case=case)) == (
        ModeOfReturn.AVRR_VOLUNTARY,
        "DE",
        AbsenceBand.YEARS_3_5,  # the band, never the 4.5 years themselves
    )
    other_purpose = consent(MIGRATION, purpose=Purpose.CASE_MANAGEMENT)
    assert return_facts(profile(other_purpose, beneficiary=beneficiary, case=case)) == (None, None, None)


def test_a_pending_case_is_profiled_with_its_timeline_and_return_profile_as_last_published() -> None:
    beneficiary = a_beneficiary()
    case = a_returnee_case(beneficiary)
    case.returned_on = date(2026, 9, 30)
    approved = datetime(2026, 10, 14, 9, 0, tzinfo=UTC)
    mark = MonitoringProfilePending(
        case_id=case.id,
        since=NOW,
        published_returned_on=case.returned_on,
        published_mode_of_return=case.mode_of_return,
        published_host_country=case.host_country,
        published_length_of_absence_years=case.length_of_absence_years,
    )
    case.returned_on, case.mode_of_return, case.host_country = date(2026, 12, 1), ModeOfReturn.SPONTANEOUS, "FR"
    case.length_of_absence_years = Decimal("12")
    published = mark.published(first_plan_approved_at=approved)
    given = profile(consent(MIGRATION), beneficiary=beneficiary, case=case, published=published)
    assert (*timeline(given), *return_facts(given)) == (
        "2026-Q3",
        14,
        ModeOfReturn.AVRR_VOLUNTARY,
        "DE",
        AbsenceBand.YEARS_3_5,
    )
    withdrawn = profile(consent(IDENTITY), beneficiary=beneficiary, case=case, published=published)
    assert (*timeline(withdrawn), *return_facts(withdrawn)) == (None, None, None, None, None)
    current = profile(consent(MIGRATION), beneficiary=beneficiary, case=case)
    assert (*timeline(current), *return_facts(current)) == (
        "2026-Q4",
        None,
        ModeOfReturn.SPONTANEOUS,
        "FR",
        AbsenceBand.OVER_10,
    )


def test_the_profile_carries_no_exact_length_of_absence() -> None:
    beneficiary = a_beneficiary()
    dumped = profile(consent(MIGRATION), beneficiary=beneficiary, case=a_returnee_case(beneficiary)).model_dump()
    assert "length_of_absence_years" not in dumped
    assert dumped["length_of_absence"] == "3-5"


@pytest.mark.parametrize(
    ("years", "band"),
    [
        ("0", AbsenceBand.UNDER_1),
        ("0.9", AbsenceBand.UNDER_1),
        ("1", AbsenceBand.YEARS_1_2),
        ("2.9", AbsenceBand.YEARS_1_2),
        ("3", AbsenceBand.YEARS_3_5),
        ("5.9", AbsenceBand.YEARS_3_5),
        ("6", AbsenceBand.YEARS_6_10),
        ("10.9", AbsenceBand.YEARS_6_10),
        ("11", AbsenceBand.OVER_10),
        ("100", AbsenceBand.OVER_10),
    ],
)
def test_absence_bands_follow_completed_years(years: str, band: AbsenceBand) -> None:
    assert absence_band(Decimal(years)) is band


@pytest.mark.parametrize(
    ("born_on", "on", "band"),
    [
        (date(2008, 12, 3), date(2026, 12, 2), AgeGroup.CHILD),  # 17 the day before the 18th birthday
        (date(2008, 12, 2), date(2026, 12, 2), AgeGroup.ADULT_18_24),
        (date(2001, 12, 3), date(2026, 12, 2), AgeGroup.ADULT_18_24),  # 24
        (date(2001, 12, 2), date(2026, 12, 2), AgeGroup.ADULT_25_34),
        (date(1991, 12, 2), date(2026, 12, 2), AgeGroup.ADULT_35_49),
        (date(1977, 12, 3), date(2026, 12, 2), AgeGroup.ADULT_35_49),  # 49
        (date(1976, 12, 2), date(2026, 12, 2), AgeGroup.ADULT_50_PLUS),
        (date(2026, 1, 1), date(2026, 12, 2), AgeGroup.CHILD),
    ],
)
def test_age_bands_follow_completed_years(born_on: date, on: date, band: AgeGroup) -> None:
    assert age_group(born_on, on) is band


def test_a_leap_day_birthday_counts_a_year_on_the_first_of_march() -> None:
    assert (age_in_years(date(2008, 2, 29), date(2026, 2, 28)), age_in_years(date(2008, 2, 29), date(2026, 3, 1))) == (
        17,
        18,
    )


def test_the_age_group_is_taken_at_case_opening_not_today() -> None:
    beneficiary = a_beneficiary(born_on=date(2008, 12, 20))
    case = a_case(beneficiary)  # opened 2 November 2026: 17 then, 18 on 20 December
    assert profile(consent(IDENTITY), beneficiary=beneficiary, case=case).age_group is AgeGroup.CHILD


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 11, 30, 0, 0, tzinfo=UTC),  # Monday, the first instant of the week
        NOW,
        datetime(2026, 12, 6, 23, 59, 59, tzinfo=UTC),  # Sunday, the last second of the week
        datetime(2026, 12, 7, 0, 30, tzinfo=timezone(timedelta(hours=2))),  # still Sunday in UTC
    ],
)
def test_as_of_is_the_start_of_the_iso_week_whatever_the_day(now: datetime) -> None:
    assert profile(now=now).as_of == datetime(2026, 11, 30, tzinfo=UTC)


def test_the_publication_cutoff_is_the_start_of_the_current_week() -> None:
    assert publication_cutoff(NOW) == datetime(2026, 11, 30, tzinfo=UTC)
    assert publication_cutoff(datetime(2026, 12, 7, tzinfo=UTC)) == datetime(2026, 12, 7, tzinfo=UTC)


def test_the_contract_floors_any_as_of_to_its_week() -> None:
    dumped = profile().model_dump() | {"as_of": datetime(2026, 12, 3, 17, 45, tzinfo=UTC)}
    assert CaseMonitoringProfile.model_validate(dumped).as_of == datetime(2026, 11, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("days", "published"), [(0, 0), (3, 0), (4, 7), (10, 7), (11, 14), (-3, 0), (-4, -7), (45, 42)]
)
def test_the_days_to_the_plan_are_published_in_whole_weeks(days: int, published: int) -> None:
    # with the weekly publication telling in which week each day fell, an exact gap would pin the day of return
    assert weeks_in_days(timedelta(days=days)) == published

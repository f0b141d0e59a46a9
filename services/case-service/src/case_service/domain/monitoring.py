"""The pseudonymous monitoring profile of a case (data-protection.md §1 class C1, R-C1, R-M5).

M&E consumers disaggregate indicators by sex, age, countries, mode of return, host country, length of absence
and the case's timeline (indicators.md §2, D-core and D-RSS) without reading the identity store: the profile
carries banded facts keyed by the surrogate ids, and each personal fact only while a consent in force lets the
owner organisation have its data category for `m_and_e`. The categories are those the case file's disclosure
map gives the field, so the feed never discloses a personal fact that a read would withhold. The date of return
is migration history too, and an exact date is a strong quasi-identifier: the profile carries only its calendar
quarter and the days from it to the first plan approval (what the return-to-plan indicator counts), under the
consent a read of `returned_on` needs. The time of a profile is coarse too: `as_of` is the start of its week,
and a change of the timeline is not profiled at once but marked pending (:class:`MonitoringProfilePending`) and
published in the following week, else the publication time of the arrival's profile would be the day of return.
Pure: the service layer loads the records and the clock.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from sqlalchemy import Column, Date, DateTime, Numeric
from sqlmodel import Field, SQLModel

from case_service.domain.disclosure import SECTIONS, Section
from case_service.domain.models import Case, PersonFacts, age_in_years
from case_service.domain.stages import Stage
from casebridge_common.access import CaseFacts, ConsentFacts, DataCategory, Party, Purpose, consent_for
from casebridge_common.db import enum_type
from casebridge_common.events.contracts.case import (
    AbsenceBand,
    AgeGroup,
    CaseMonitoringProfile,
    ModeOfReturn,
    Programme,
    quarter,
    week_start,
)

# The upper bound (inclusive) of each band's age in whole years; the last band is open.
_BANDS: tuple[tuple[int, AgeGroup], ...] = (
    (17, AgeGroup.CHILD),
    (24, AgeGroup.ADULT_18_24),
    (34, AgeGroup.ADULT_25_34),
    (49, AgeGroup.ADULT_35_49),
)
# The beneficiary fields a profile is derived from: a change to any other field leaves it as it is.
PROFILE_FIELDS = frozenset({"sex", "born_on", "country_of_origin", "country_of_return", "country_of_resettlement"})
# The case fields a profile is derived from (beside the stage and the plan): a change to one emits a new profile.
PROFILED_CASE_FIELDS = frozenset({"mode_of_return", "host_country", "length_of_absence_years", "returned_on"})
ARRIVAL_STAGE = Stage.ARRIVED
# The upper bound (inclusive) of each band's completed years of absence; the last band is open.
_ABSENCE_BANDS: tuple[tuple[int, AbsenceBand], ...] = (
    (0, AbsenceBand.UNDER_1),
    (2, AbsenceBand.YEARS_1_2),
    (5, AbsenceBand.YEARS_3_5),
    (10, AbsenceBand.YEARS_6_10),
)


@dataclass(frozen=True)
class Timeline:
    """The timeline and return profile a profile is built from: the case's, or, while a change waits for the
    weekly publication, the ones last published. Either may still be nulled by the consents at emission time."""

    returned_on: date | None
    first_plan_approved_at: datetime | None
    mode_of_return: ModeOfReturn | None
    host_country: str | None
    length_of_absence_years: Decimal | None

    @classmethod
    def of(cls, case: Case, *, returned_on: date | None, first_plan_approved_at: datetime | None) -> "Timeline":
        return cls(
            returned_on=returned_on,
            first_plan_approved_at=first_plan_approved_at,
            mode_of_return=case.mode_of_return,
            host_country=case.host_country,
            length_of_absence_years=case.length_of_absence_years,
        )


class MonitoringProfilePending(SQLModel, table=True):
    """A case whose timeline changed since its profile was last published: the weekly job publishes it once the
    week of `since` is over. One row per case, however many changes: `since` is the first unpublished one, and
    the `published_*` columns the date of return and return profile before it. A profile emitted at once
    meanwhile (a consent, a personal fact) carries the timeline and return profile as published, with the plan
    approvals before `since`: with the current ones, a beneficiary update on the day of arrival would date the
    return (arrival and a patched mode of return or host country usually fall on the same day)."""

    __tablename__ = "monitoring_profile_pending"

    case_id: UUID = Field(foreign_key="cases.id", primary_key=True)
    since: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    published_returned_on: date | None = Field(default=None, sa_column=Column(Date))
    published_mode_of_return: ModeOfReturn | None = Field(default=None, sa_type=enum_type(ModeOfReturn))
    published_host_country: str | None = Field(default=None, max_length=2)
    published_length_of_absence_years: Decimal | None = Field(default=None, sa_column=Column(Numeric(4, 1)))

    @classmethod
    def of(cls, case_id: UUID, *, since: datetime, published: Timeline) -> "MonitoringProfilePending":
        """The mark of a case whose timeline changes at `since`; `published` is the timeline before the change."""
        return cls(
            case_id=case_id,
            since=since,
            published_returned_on=published.returned_on,
            published_mode_of_return=published.mode_of_return,
            published_host_country=published.host_country,
            published_length_of_absence_years=published.length_of_absence_years,
        )

    def published(self, *, first_plan_approved_at: datetime | None) -> Timeline:
        """The timeline last published; `first_plan_approved_at` is the first approval before `since`."""
        return Timeline(
            returned_on=self.published_returned_on,
            first_plan_approved_at=first_plan_approved_at,
            mode_of_return=self.published_mode_of_return,
            host_country=self.published_host_country,
            length_of_absence_years=self.published_length_of_absence_years,
        )


def publication_cutoff(now: datetime) -> datetime:
    """A case pending since before this (the start of the current ISO week) is due: a change during week W is
    published in week W+1, whatever its day."""
    return week_start(now)


def age_group(born_on: date, on: date) -> AgeGroup:
    age = age_in_years(born_on, on)
    return next((band for upper, band in _BANDS if age <= upper), AgeGroup.ADULT_50_PLUS)


def absence_band(years: Decimal) -> AbsenceBand:
    """The band of a length of absence, by completed years (4.9 years is `3-5`, 10.5 is `6-10`)."""
    completed = int(years)
    return next((band for upper, band in _ABSENCE_BANDS if completed <= upper), AbsenceBand.OVER_10)


def owner_party(case: Case) -> Party:
    """M&E is the owner organisation's: a consent naming the organisation covers it; without one, the office."""
    if case.owner_organisation_id is not None:
        return Party(organisation_id=case.owner_organisation_id)
    return Party(office_id=case.owner_office_id)


class _Disclosure:
    """Which fields the owner may publish for monitoring and evaluation: a field goes out only when a consent
    in force lets the owner have every category it falls in for `m_and_e`. Each category is decided once per
    profile (several fields share one)."""

    def __init__(self, facts: CaseFacts, party: Party, now: datetime) -> None:
        self._facts, self._party, self._now = facts, party, now
        self._allowed: dict[DataCategory, bool] = {}

    def __call__(self, field: str, *, section: Section = Section.BENEFICIARY) -> bool:
        categories = SECTIONS[section].of(field)
        return bool(categories) and all(self._category(category) for category in categories)

    def _category(self, category: DataCategory) -> bool:
        allowed = self._allowed.get(category)
        if allowed is None:
            decision = consent_for(self._facts, category, Purpose.M_AND_E, self._party, now=self._now)
            allowed = self._allowed[category] = decision.allowed
        return allowed


def weeks_in_days(gap: timedelta) -> int:
    """The days from return to plan approval rounded to whole weeks (a multiple of 7). The weekly publication
    already tells in which week each day fell; an exact gap on top of that would pin the day of return."""
    return 7 * round(gap.days / 7)


def monitoring_profile(
    case: Case,
    beneficiary: PersonFacts,
    consents: tuple[ConsentFacts, ...],
    *,
    subject_is_minor: bool,
    timeline: Timeline,
    version: int,
    now: datetime,
) -> CaseMonitoringProfile:
    """The profile as of `now`'s week: each personal fact only when consented, else null (withdrawal nulls it).
    `timeline` is the timeline and return profile to publish: the case's, or the last published ones while a
    change waits for the weekly publication; the consents decide on them as on the rest."""
    facts = CaseFacts(
        case_id=case.id, owner_office_id=case.owner_office_id, subject_is_minor=subject_is_minor, consents=consents
    )
    disclosed = _Disclosure(facts, owner_party(case), now)
    resettled = case.programme is Programme.RESETTLEMENT_INTEGRATION
    return_field = "country_of_resettlement" if resettled else "country_of_return"
    country_of_return = beneficiary.country_of_resettlement if resettled else beneficiary.country_of_return

    def of_case(field: str) -> bool:
        return disclosed(field, section=Section.CASE)

    absence = timeline.length_of_absence_years
    returned_on = timeline.returned_on if of_case("returned_on") else None
    plan_approved_at = timeline.first_plan_approved_at
    plan_day = None if plan_approved_at is None else plan_approved_at.astimezone(UTC).date()
    return CaseMonitoringProfile(
        case_id=case.id,
        beneficiary_id=beneficiary.id,
        programme=case.programme,
        owner_office_id=case.owner_office_id,
        owner_organisation_id=case.owner_organisation_id,
        profile_version=version,
        as_of=week_start(now),
        sex=str(beneficiary.sex) if disclosed("sex") else None,
        age_group=age_group(beneficiary.born_on, case.opened_at.date()) if disclosed("born_on") else None,
        country_of_origin=beneficiary.country_of_origin if disclosed("country_of_origin") else None,
        country_of_return=country_of_return if disclosed(return_field) else None,
        return_quarter=None if returned_on is None else quarter(returned_on),
        days_return_to_plan=None if returned_on is None or plan_day is None else weeks_in_days(plan_day - returned_on),
        mode_of_return=timeline.mode_of_return if of_case("mode_of_return") else None,
        host_country=timeline.host_country if of_case("host_country") else None,
        length_of_absence=absence_band(absence) if absence is not None and of_case("length_of_absence_years") else None,
    )

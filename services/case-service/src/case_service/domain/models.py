"""Beneficiaries (returnees, refugees) and their cases."""

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol
from uuid import UUID, uuid4

from sqlalchemy import Column, Date, DateTime, Index, Numeric, String, inspect
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from case_service.domain.errors import ReturnDateInFuture, ReturnProfileNotApplicable
from case_service.domain.stages import FIRST_TRACK_STAGE, Stage, Track, TrackStage, opening_stage
from casebridge_common.db import empty_list, enum_type
from casebridge_common.events.contracts.case import ModeOfReturn, Programme


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class Beneficiary(SQLModel, table=True):
    """A returnee or a refugee, registered by one office."""

    __tablename__ = "beneficiaries"
    __table_args__ = (
        Index(
            "ix_beneficiaries_name_key_trgm",
            "name_key",
            postgresql_using="gin",
            postgresql_ops={"name_key": "gin_trgm_ops"},
        ),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    given_name: str  # the primary name, in Latin script
    family_name: str
    sex: Sex = Field(sa_type=enum_type(Sex))
    born_on: date
    born_on_is_estimated: bool = False
    nationality: str = Field(max_length=2)
    registering_office_id: str = Field(index=True)
    registering_organisation_id: str | None = None
    registered_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    version: int = 1
    # the name in other scripts: [{script (ISO 15924), given_name, family_name, transliteration_of}]
    names: list[dict[str, object]] = Field(
        default_factory=empty_list, sa_column=Column(JSONB, nullable=False, server_default="[]")
    )
    languages: list[str] = Field(  # ISO 639 codes
        default_factory=empty_list, sa_column=Column(ARRAY(String), nullable=False, server_default="{}")
    )
    contacts: list[dict[str, object]] = Field(
        default_factory=empty_list, sa_column=Column(JSONB, nullable=False, server_default="[]")
    )
    documents: list[dict[str, object]] = Field(  # identity and travel documents; the numbers are personal data
        default_factory=empty_list, sa_column=Column(JSONB, nullable=False, server_default="[]")
    )
    # indexed: a case list filtered by a country few of an office's cases have would otherwise walk all of them
    country_of_origin: str | None = Field(default=None, max_length=2, index=True)
    country_of_return: str | None = Field(default=None, max_length=2, index=True)
    country_of_resettlement: str | None = Field(default=None, max_length=2, index=True)
    current_location: str | None = Field(default=None, max_length=500)
    # the normalised full name (domain/people.normalised_name) that duplicate detection compares by trigrams
    name_key: str = Field(default="", sa_column=Column(String, nullable=False, server_default=""))


class ReturnIntendedDuration(StrEnum):
    PERMANENT = "permanent"
    TEMPORARY = "temporary"


class AvrrCategory(StrEnum):
    """Who an assisted voluntary return served (reintegration.md §5.1)."""

    STRANDED_MIGRANT = "stranded_migrant"
    ASYLUM_SEEKER_WITHDREW = "asylum_seeker_withdrew"
    MIGRANT_WORKER_END_OF_CONTRACT = "migrant_worker_end_of_contract"
    VISA_OVERSTAYER = "visa_overstayer"
    OTHER = "other"


# The return profile of a return case (reintegration.md §5.1): the returnee's migration history.
RETURN_PROFILE_FIELDS = (
    "mode_of_return",
    "avrr_category",
    "return_intended_duration",
    "host_country",
    "length_of_absence_years",
    "returned_on",
)


class Case(SQLModel, table=True):
    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_owner_opened", "owner_office_id", "opened_at", "id"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    beneficiary_id: UUID = Field(foreign_key="beneficiaries.id", index=True)
    programme: Programme = Field(sa_type=enum_type(Programme))
    stage: Stage = Field(sa_type=enum_type(Stage))
    owner_office_id: str
    owner_organisation_id: str | None = None
    assigned_worker: str | None = None
    opened_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    version: int = 1
    held_from_stage: Stage | None = Field(default=None, sa_type=enum_type(Stage))
    hold_reason: str | None = None
    health_track: TrackStage | None = Field(default=None, sa_type=enum_type(TrackStage))
    pdo_track: TrackStage | None = Field(default=None, sa_type=enum_type(TrackStage))
    documents_track: TrackStage | None = Field(default=None, sa_type=enum_type(TrackStage))
    # when the health track reached `pec_passed`: the fitness-to-travel check holds for departure for 72 hours
    pec_passed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    # the latest vulnerability screening's categories, kept on the case so lists can filter on them
    vulnerability_categories: list[str] = Field(
        default_factory=empty_list, sa_column=Column(ARRAY(String), nullable=False, server_default="{}")
    )
    stage_changed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    mode_of_return: ModeOfReturn | None = Field(default=None, sa_type=enum_type(ModeOfReturn))
    avrr_category: AvrrCategory | None = Field(default=None, sa_type=enum_type(AvrrCategory))
    return_intended_duration: ReturnIntendedDuration | None = Field(
        default=None, sa_type=enum_type(ReturnIntendedDuration)
    )
    host_country: str | None = Field(default=None, max_length=2)  # the country returned from
    length_of_absence_years: Decimal | None = Field(default=None, sa_column=Column(Numeric(4, 1)))
    # the date of return: recorded on entering `arrived` unless given before, and kept in later stages
    returned_on: date | None = Field(default=None, sa_column=Column(Date))

    def track(self, track: Track) -> TrackStage | None:
        stage: TrackStage | None = getattr(self, TRACK_COLUMNS[track])
        return stage

    def move_track(self, track: Track, to: TrackStage, *, now: datetime) -> None:
        setattr(self, TRACK_COLUMNS[track], to)
        if track is Track.HEALTH:
            self.pec_passed_at = now if to is TrackStage.PEC_PASSED else None


TRACK_COLUMNS = {Track.HEALTH: "health_track", Track.PDO: "pdo_track", Track.DOCUMENTS: "documents_track"}
# what a new case holds in every column no opening sets; a column with a default factory is set by open_case_for
_NEW_CASE = {
    name: field.default
    for name, field in Case.model_fields.items()
    if not field.is_required() and field.default_factory is None
}
_SET_AT_OPENING = frozenset({"id", "vulnerability_categories"})
if {name for name, field in Case.model_fields.items() if field.default_factory is not None} != _SET_AT_OPENING:
    raise RuntimeError("a column of Case with a default factory must be set by open_case_for")
_CASES = inspect(Case).class_manager


class PersonFacts(Protocol):
    """What a monitoring profile reads of a beneficiary (domain/monitoring.py)."""

    @property
    def id(self) -> UUID: ...
    @property
    def sex(self) -> Sex: ...
    @property
    def born_on(self) -> date: ...
    @property
    def country_of_origin(self) -> str | None: ...
    @property
    def country_of_return(self) -> str | None: ...
    @property
    def country_of_resettlement(self) -> str | None: ...


def open_case_for(
    beneficiary_id: UUID,
    *,
    programme: Programme,
    office_id: str,
    organisation_id: str | None,
    assigned_worker: str | None,
    now: datetime,
    return_profile: Mapping[str, object] | None = None,
    dated_on_arrival: bool = True,
) -> Case:
    """A new case in its :func:`opening_stage` (a resettlement case's tracks in theirs), with the return
    profile given (checked by :func:`check_return_profile`). A case opened on arrival records today as its
    date of return unless one is given, as entering `arrived` does; not with `dated_on_arrival=False` (a legacy
    case imported, whose day of return is unknown unless its row gives it)."""
    profile = dict(return_profile or {})
    if unknown := sorted(set(profile) - set(RETURN_PROFILE_FIELDS)):
        raise ValueError(f"not return profile fields: {unknown}")
    mode = profile.get("mode_of_return")
    stage = opening_stage(programme, None if mode is None else ModeOfReturn(str(mode)))
    if dated_on_arrival and stage is Stage.ARRIVED and profile.get("returned_on") is None:
        profile["returned_on"] = now.date()
    columns: dict[str, object] = {
        **_NEW_CASE,
        "id": uuid4(),
        "vulnerability_categories": [],
        "beneficiary_id": beneficiary_id,
        "programme": programme,
        "stage": stage,
        "owner_office_id": office_id,
        "owner_organisation_id": organisation_id,
        "assigned_worker": assigned_worker,
        "opened_at": now,
        "stage_changed_at": now,
        **profile,
    }
    if programme is Programme.RESETTLEMENT_INTEGRATION:
        columns.update({TRACK_COLUMNS[track]: FIRST_TRACK_STAGE[track] for track in Track})
    # Built the way SQLAlchemy builds a case it loads (an instance, its columns put in its __dict__), not through
    # SQLModel's constructor: that sets each of the 23 columns through three layers of attribute events and cost
    # more than the rest of the opening's own work together (bench/case_service.py). A session adds and inserts
    # it like any other new case (tests/api/test_case_opening_api.py compares the rows of both opening paths).
    case: Case = _CASES.new_instance()
    case.__dict__.update(columns)
    object.__setattr__(case, "__pydantic_fields_set__", set(columns))
    return case


def new_case_columns(case: Case) -> Mapping[str, object]:
    """The columns of a case :func:`open_case_for` built, read from its __dict__ where they all are: a seventh of
    the cost of reading them as the ORM's instrumented attributes (the opening's answer and write)."""
    return vars(case)


def check_return_profile(programme: Programme, given: Mapping[str, object], *, today: date) -> None:
    """The return profile fields a command sets (field → value; null clears one): only a return case has them,
    except `returned_on`, which a resettlement case's arrival records too (its date of arrival) and which may
    therefore be corrected there; the date is not in the future. Types and ranges are the request model's."""
    named = [name for name in RETURN_PROFILE_FIELDS if given.get(name) is not None and name != "returned_on"]
    if programme is not Programme.RETURN_REINTEGRATION and named:
        raise ReturnProfileNotApplicable(pointer=f"#/{named[0]}", programme=programme.value)
    returned_on = given.get("returned_on")
    if isinstance(returned_on, date) and returned_on > today:
        raise ReturnDateInFuture(pointer="#/returned_on")


def age_in_years(born_on: date, on: date) -> int:
    """Completed years; a 29 February birthday counts from 1 March in other years."""
    return on.year - born_on.year - ((on.month, on.day) < (born_on.month, born_on.day))


def is_minor(born_on: date, today: date) -> bool:
    """Under 18 on `today` (a 29 February birthday comes of age on 1 March)."""
    return age_in_years(born_on, today) < 18

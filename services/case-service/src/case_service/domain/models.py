"""Beneficiaries (returnees, refugees) and their cases."""

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import Column, DateTime, Index, String
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from case_service.domain.stages import FIRST_STAGE, FIRST_TRACK_STAGE, Stage, Track, TrackStage
from casebridge_common.db import empty_list, enum_type
from casebridge_common.events.contracts.case import Programme


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
    country_of_origin: str | None = Field(default=None, max_length=2)
    country_of_return: str | None = Field(default=None, max_length=2)
    country_of_resettlement: str | None = Field(default=None, max_length=2)
    current_location: str | None = Field(default=None, max_length=500)
    # the normalised full name (domain/people.normalised_name) that duplicate detection compares by trigrams
    name_key: str = Field(default="", sa_column=Column(String, nullable=False, server_default=""))


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
    # the latest vulnerability screening's categories, kept on the case so lists can filter on them
    vulnerability_categories: list[str] = Field(
        default_factory=empty_list, sa_column=Column(ARRAY(String), nullable=False, server_default="{}")
    )
    stage_changed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))

    def track(self, track: Track) -> TrackStage | None:
        return {Track.HEALTH: self.health_track, Track.PDO: self.pdo_track, Track.DOCUMENTS: self.documents_track}[
            track
        ]

    def move_track(self, track: Track, to: TrackStage) -> None:
        if track is Track.HEALTH:
            self.health_track = to
        elif track is Track.PDO:
            self.pdo_track = to
        else:
            self.documents_track = to


def open_case_for(
    beneficiary: Beneficiary,
    *,
    programme: Programme,
    office_id: str,
    organisation_id: str | None,
    assigned_worker: str | None,
    now: datetime,
) -> Case:
    case = Case(
        beneficiary_id=beneficiary.id,
        programme=programme,
        stage=FIRST_STAGE[programme],
        owner_office_id=office_id,
        owner_organisation_id=organisation_id,
        assigned_worker=assigned_worker,
        opened_at=now,
        stage_changed_at=now,
    )
    if programme is Programme.RESETTLEMENT_INTEGRATION:
        for track in Track:
            case.move_track(track, FIRST_TRACK_STAGE[track])
    return case


def is_minor(born_on: date, today: date) -> bool:
    """Under 18 on `today` (a 29 February birthday comes of age on 1 March)."""
    try:
        majority = born_on.replace(year=born_on.year + 18)
    except ValueError:
        majority = date(born_on.year + 18, 3, 1)
    return today < majority

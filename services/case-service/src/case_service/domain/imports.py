"""Bulk import of a legacy caseload: the job, its rows, the column mapping and the per-row rules.

An upload becomes one `CaseImport` and one `CaseImportRow` per data row. The worker takes pending rows in
batches through the same registration and case-opening use cases as the single endpoints, so a row either
becomes a beneficiary with an open case (`imported`), is recognised as one imported before (`skipped`), or is
`rejected` with its problems. The job state lives in PostgreSQL: a restarted worker resumes where it stopped.
"""

import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import Column, DateTime, Index, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from case_service.domain.stages import RETURNS_OPENED_ON_ARRIVAL, Stage, is_active, opening_stage, stages_of
from casebridge_common.db import empty_list, enum_type
from casebridge_common.events.contracts.case import ModeOfReturn, Programme
from casebridge_common.http import is_a_number


class ImportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


class ImportStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"


class RowOutcome(StrEnum):
    PENDING = "pending"
    IMPORTED = "imported"
    SKIPPED = "skipped"
    REJECTED = "rejected"


class CaseImport(SQLModel, table=True):
    """One uploaded file. The submitter's identity is kept so the worker acts, and audits, as them."""

    __tablename__ = "case_imports"
    __table_args__ = (Index("ix_case_imports_status_created", "status", "created_at"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    office_id: str = Field(index=True)
    organisation_id: str | None = None
    submitted_by: str
    client_id: str
    country: str | None = None
    scopes: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    roles: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    file_name: str = Field(max_length=255)
    file_format: ImportFormat = Field(sa_type=enum_type(ImportFormat))
    file_sha256: str = Field(max_length=64)
    ignored_columns: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    status: ImportStatus = Field(sa_type=enum_type(ImportStatus))
    total_rows: int
    imported: int = 0
    skipped: int = 0
    rejected: int = 0
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    started_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    finished_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))

    @property
    def processed(self) -> int:
        return self.imported + self.skipped + self.rejected


class CaseImportRow(SQLModel, table=True):
    """One data row. `cells` holds the raw values only until the row is processed, then it is cleared, so
    the staging table keeps no personal data beyond what the import created. An imported row keeps its
    external id and content hash: they are what makes a re-run skip it, per office."""

    __tablename__ = "case_import_rows"
    __table_args__ = (
        Index(
            "uq_case_import_rows_office_external_id",
            "office_id",
            "external_id",
            unique=True,
            postgresql_where=text("outcome = 'imported' AND external_id IS NOT NULL"),
        ),
        Index(
            "uq_case_import_rows_office_content_hash",
            "office_id",
            "content_hash",
            unique=True,
            postgresql_where=text("outcome = 'imported'"),
        ),
    )

    import_id: UUID = Field(foreign_key="case_imports.id", primary_key=True)
    row_number: int = Field(primary_key=True)  # the spreadsheet's row number: the header is row 1
    office_id: str
    outcome: RowOutcome = Field(sa_type=enum_type(RowOutcome))
    cells: dict[str, str] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    external_id: str | None = Field(default=None, max_length=200)
    content_hash: str | None = Field(default=None, max_length=64)
    problems: list[dict[str, str]] = Field(default_factory=empty_list, sa_column=Column(JSONB, nullable=False))
    beneficiary_id: UUID | None = None
    case_id: UUID | None = None
    processed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


@dataclass(frozen=True, slots=True)
class ImportColumn:
    name: str
    required: bool
    description: str
    aliases: tuple[str, ...] = ()


# The documented column mapping (README "Bulk import"). Headers match case-insensitively, with spaces and
# hyphens read as underscores; an alias is a header name common in legacy exports.
COLUMNS: tuple[ImportColumn, ...] = (
    ImportColumn("external_id", False, "the legacy system's case number; re-runs skip a known one", ("legacy_id",)),
    ImportColumn("given_name", True, "given name(s)", ("first_name",)),
    ImportColumn("family_name", True, "family name", ("last_name", "surname")),
    ImportColumn("sex", True, "female, male, other or unknown (F and M accepted)"),
    ImportColumn("born_on", True, "date of birth, YYYY-MM-DD (or a spreadsheet date)", ("date_of_birth", "dob")),
    ImportColumn("born_on_is_estimated", False, "true/false, yes/no or 1/0; empty means false"),
    ImportColumn("nationality", True, "ISO 3166-1 alpha-2, e.g. SN"),
    ImportColumn("country_of_origin", False, "ISO 3166-1 alpha-2"),
    ImportColumn("country_of_return", False, "ISO 3166-1 alpha-2"),
    ImportColumn("country_of_resettlement", False, "ISO 3166-1 alpha-2"),
    ImportColumn("current_location", False, "where the person lives now, free text"),
    ImportColumn("languages", False, "language codes separated by commas or spaces, e.g. wo, fr"),
    ImportColumn(
        "confirm_not_duplicate", False, "true: register even if the office has a likely match (checked by hand)"
    ),
    ImportColumn("programme", True, "return_reintegration or resettlement_integration"),
    ImportColumn("stage", False, "stage at import (an active stage of the programme); empty: the first stage"),
    ImportColumn("assigned_worker", False, "the case worker's user name"),
    # the return profile of a case (return cases only, but for `returned_on`, a resettlement's date of arrival)
    ImportColumn("mode_of_return", False, "avrr_voluntary, forced_deported, spontaneous or other"),
    ImportColumn("avrr_category", False, "who the assisted voluntary return served, e.g. stranded_migrant"),
    ImportColumn("return_intended_duration", False, "permanent or temporary"),
    ImportColumn("host_country", False, "ISO 3166-1 alpha-2: the country returned from"),
    ImportColumn("length_of_absence_years", False, "years abroad, one decimal, e.g. 4.5"),
    ImportColumn("returned_on", False, "date of return or arrival, YYYY-MM-DD (or a spreadsheet date)"),
)
REQUIRED_COLUMNS: frozenset[str] = frozenset(c.name for c in COLUMNS if c.required)
_BY_HEADER: dict[str, str] = {alias: c.name for c in COLUMNS for alias in (c.name, *c.aliases)}


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    """Which position of a row feeds which field, and the headers that feed none."""

    positions: dict[str, int]
    ignored: list[str]
    missing: list[str]


def normalise_header(header: str) -> str:
    return "_".join(header.strip().lower().replace("-", " ").split())


def map_columns(headers: list[str]) -> ColumnMapping:
    """The first column of a name wins; a repeated or unknown header is ignored (and reported)."""
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for position, header in enumerate(headers):
        field = _BY_HEADER.get(normalise_header(header))
        if field is None or field in positions:
            if header.strip():
                ignored.append(header.strip())
            continue
        positions[field] = position
    return ColumnMapping(positions, ignored, sorted(REQUIRED_COLUMNS - set(positions)))


def row_cells(mapping: ColumnMapping, values: list[str]) -> dict[str, str]:
    """The mapped, stripped values of one row; an empty cell is left out."""
    cells: dict[str, str] = {}
    for field, position in mapping.positions.items():
        value = values[position].strip() if position < len(values) else ""
        if value:
            cells[field] = value
    return cells


@dataclass(frozen=True, slots=True)
class RowProblem:
    """Why a row was rejected: the column at fault (or none for the row as a whole) and a stable code."""

    column: str | None
    code: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"column": self.column or "", "code": self.code, "detail": self.detail}


_SEX_ALIASES = {"f": "female", "m": "male"}
_TRUE, _FALSE = frozenset({"true", "yes", "y", "1"}), frozenset({"false", "no", "n", "0"})


def normalise_sex(value: str) -> str:
    lowered = value.strip().lower()
    return _SEX_ALIASES.get(lowered, lowered)


def parse_flag(value: str | None) -> bool | None:
    """None when the value is not a recognised truth value."""
    if value is None:
        return False
    lowered = value.strip().lower()
    return True if lowered in _TRUE else False if lowered in _FALSE else None


def normalise_choice(value: str) -> str:
    """A choice cell as the API writes its value, read as headers are: "AVRR voluntary" → "avrr_voluntary"."""
    return normalise_header(value)


def parse_date(value: str) -> str | None:
    """An ISO date, also from a spreadsheet datetime cell ("1994-03-17 00:00:00"); validation happens later.
    None for a plain number: the request models would read it as seconds since 1970, but in a legacy sheet it
    is a spreadsheet's serial day number or a bare year (:data:`NUMBER_IS_NOT_A_DATE`)."""
    head = value.strip()
    if is_a_number(head):
        return None
    if len(head) > 10 and head[10] in " T" and head[11:].strip("0:. ") == "":
        return head[:10]
    return head


NUMBER_IS_NOT_A_DATE = "Write the date as YYYY-MM-DD (or format the column as a date): a number is not read as one."


def stage_at_import(
    programme: Programme, stage: str | None, *, mode_of_return: ModeOfReturn | None = None
) -> Stage | RowProblem:
    """The stage the imported case starts in: the one given, else where a case opened now would
    (`opening_stage`). Only an active stage of the case's programme: a legacy case that is closed, withdrawn or
    on hold would lack the closure record, reason or earlier stage that the lifecycle guards require, so it is
    not imported as such."""
    if stage is None:
        return opening_stage(programme, mode_of_return)
    try:
        target = Stage(normalise_choice(stage))
    except ValueError:
        return RowProblem("stage", "unknown-stage", "Not a stage of CaseBridge.")
    if target not in stages_of(programme):
        return RowProblem("stage", "stage-not-in-programme", f"Not a stage of {programme.value}.")
    if not is_active(target):
        return RowProblem("stage", "stage-not-importable", "Only open cases in an active stage are imported.")
    if target is Stage.PRE_DEPARTURE_COUNSELLING and mode_of_return in RETURNS_OPENED_ON_ARRIVAL:
        return RowProblem(
            "stage",
            "stage-before-arrival",
            "A forced or spontaneous return had no pre-departure counselling: it starts in arrived or later.",
        )
    return target


def _fold(value: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


def content_hash(
    *, given_name: str, family_name: str, sex: str, born_on: date, nationality: str, programme: Programme
) -> str:
    """The identity of a row's content, independent of case, spacing, stage and worker: the same person in
    the same programme, imported again by the same office, is skipped."""
    parts = [_fold(given_name), _fold(family_name), sex, born_on.isoformat(), nationality.upper(), programme.value]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()

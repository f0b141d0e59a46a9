"""Assessments, reintegration/integration plans and closure records (reintegration.md §5.3, §6, §8, §11)."""

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import CheckConstraint, Column, DateTime, Index, LargeBinary, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from casebridge_common.db import enum_type


class AssessmentKind(StrEnum):
    VULNERABILITY_SCREENING = "vulnerability_screening"
    NEEDS = "needs"
    SKILLS = "skills"
    HEALTH = "health"
    RISK = "risk"
    BEST_INTERESTS_DETERMINATION = "best_interests_determination"


SENSITIVE_KINDS: frozenset[AssessmentKind] = frozenset(
    {AssessmentKind.HEALTH, AssessmentKind.VULNERABILITY_SCREENING, AssessmentKind.BEST_INTERESTS_DETERMINATION}
)


class VulnerabilityCategory(StrEnum):
    """reintegration.md §6, one code per row (the paired rows are split into their two codes)."""

    HEALTH_NEEDS = "health_needs"
    CHRONIC_CONDITION = "chronic_condition"
    MENTAL_HEALTH_CONDITION = "mental_health_condition"
    DISTRESS_FROM_MIGRATION_ABUSE = "distress_from_migration_abuse"
    VICTIM_OF_TRAFFICKING = "victim_of_trafficking"
    VICTIM_VIOLENCE_EXPLOITATION_ABUSE = "victim_violence_exploitation_abuse"
    AT_RISK_IPV_OR_VIOLENCE = "at_risk_ipv_or_violence"
    UASC = "uasc"
    SINGLE_PARENT = "single_parent"
    LARGE_FAMILY = "large_family"
    HIGH_HEALTH_RELATED_NEEDS = "high_health_related_needs"
    DISABILITY = "disability"
    OLDER_PERSON_LIMITED_MOBILITY = "older_person_limited_mobility"
    NUTRITION_RISK = "nutrition_risk"
    PREGNANT = "pregnant"
    LGBTI = "lgbti"
    GBV_SURVIVOR = "gbv_survivor"
    SEX_WORK_OR_SEXUAL_EXPLOITATION = "sex_work_or_sexual_exploitation"
    TORTURE_SURVIVOR = "torture_survivor"
    SUBSTANCE_USE = "substance_use"
    TRAUMATIC_EXPERIENCES = "traumatic_experiences"
    ACUTE_RISK = "acute_risk"
    GRIEF_INTRUSIVE_THOUGHTS = "grief_intrusive_thoughts"
    FLED_CONFLICT = "fled_conflict"
    LONG_ABSENCE_NO_NETWORK = "long_absence_no_network"
    HOSTILE_NEIGHBOURHOOD_STIGMA = "hostile_neighbourhood_stigma"
    HIGH_NONPRODUCTIVE_DEBT = "high_nonproductive_debt"
    CHILD_SPECIFIC_RISK = "child_specific_risk"


class ScreeningType(StrEnum):
    RAPID_VULNERABILITY_ASSESSMENT = "rapid_vulnerability_assessment"
    VEA_SCREENING = "vea_screening"
    FULL_SCREENING = "full_screening"


class ScreeningPhase(StrEnum):
    PRE_DEPARTURE = "pre_departure"
    ON_ARRIVAL = "on_arrival"
    RE_ASSESSMENT = "re_assessment"


class VulnerabilityNature(StrEnum):
    SITUATIONAL = "situational"
    PERSONAL = "personal"


class HowAcquired(StrEnum):
    FORMAL_TRAINING = "formal_training"
    INFORMAL_TRAINING = "informal_training"
    WORK = "work"
    LIFE_EXPERIENCE = "life_experience"


class HealthReturnDecision(StrEnum):
    """R16: the health return decision taken before departure."""

    FIT_TO_RETURN = "fit_to_return"
    RETURN_WITH_CARE_PLAN = "return_with_care_plan"
    NOT_TO_RETURN = "not_to_return"


class BestInterestsDecision(StrEnum):
    RETURN_IN_BEST_INTERESTS = "return_in_best_interests"
    RETURN_NOT_IN_BEST_INTERESTS = "return_not_in_best_interests"


class PlanStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    SUPERSEDED = "superseded"


class DraftedIn(StrEnum):
    HOST_PRE_DEPARTURE = "host_pre_departure"
    ORIGIN = "origin"


class ClosureReason(StrEnum):
    """reintegration.md §11.1, child-case reasons included."""

    SUPPORT_DURATION_ENDED = "support_duration_ended"
    NO_LONGER_MEETS_CRITERIA = "no_longer_meets_criteria"
    RETURNEE_CHOOSES_TO_STOP = "returnee_chooses_to_stop"
    LEFT_THE_AREA = "left_the_area"
    DIED = "died"
    GOALS_MET_CARE_IN_PLACE = "goals_met_care_in_place"
    FAMILY_NO_LONGER_WANTS_SUPPORT = "family_no_longer_wants_support"
    TURNED_18 = "turned_18"


class ClosureType(StrEnum):
    PLANNED = "planned"
    ABRUPT = "abrupt"
    INVOLUNTARY = "involuntary"


class Assessment(SQLModel, table=True):
    """One version of one kind of assessment; a new record is a new version, older ones stay as history."""

    __tablename__ = "assessments"
    __table_args__ = (
        UniqueConstraint("case_id", "kind", "version"),
        # a sealed row keeps no plaintext: writing a payload back into `data` fails here, not silently
        CheckConstraint("sealed_data IS NULL OR data = '{}'::jsonb", name="sealed_has_no_plaintext"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    case_id: UUID = Field(foreign_key="cases.id")
    kind: AssessmentKind = Field(sa_type=enum_type(AssessmentKind))
    version: int
    is_sensitive: bool
    # the payload; for a sensitive kind the repository stores `{}` here and the payload sealed under the
    # beneficiary's key in `sealed_data` (domain/vault.py), and puts the opened payload back on read
    data: dict[str, object] = Field(sa_column=Column(JSONB, nullable=False))
    sealed_data: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    recorded_by: str
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))

    @property
    def is_erased(self) -> bool:
        """Sealed under a key that erasure destroyed: the payload is gone for good."""
        return self.sealed_data is not None and not self.data


class Plan(SQLModel, table=True):
    """One version of a reintegration (or integration) plan: the Annex 3 template in `content`."""

    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("case_id", "version"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    case_id: UUID = Field(foreign_key="cases.id")
    version: int
    status: PlanStatus = Field(sa_type=enum_type(PlanStatus))
    drafted_in: DraftedIn = Field(sa_type=enum_type(DraftedIn))
    content: dict[str, object] = Field(sa_column=Column(JSONB, nullable=False))
    drafted_by: str
    drafted_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    approved_by: str | None = None
    approved_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class CaseClosure(SQLModel, table=True):
    """How a case ended: reason, type, exit review and hand-off (reintegration.md §11)."""

    __tablename__ = "case_closures"
    __table_args__ = (Index("ix_case_closures_case", "case_id", unique=True),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    case_id: UUID = Field(foreign_key="cases.id")
    closure_reason: ClosureReason = Field(sa_type=enum_type(ClosureReason))
    closure_type: ClosureType = Field(sa_type=enum_type(ClosureType))
    early_exit_reason: str | None = None
    exit_interview_on: date | None = None
    closing_assessment: str | None = None
    plan_review: str | None = None
    hand_off: str | None = None
    best_interests_determination_reference: str | None = None
    closed_by: str
    closed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


def next_version(latest: int | None) -> int:
    return 1 if latest is None else latest + 1


def plan_diff(before: dict[str, object], after: dict[str, object]) -> list[tuple[str, object, object]]:
    """Every changed leaf as (JSON pointer, before, after), in pointer order; lists compare as whole values."""
    changes: list[tuple[str, object, object]] = []

    def walk(path: str, a: object, b: object) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b)):
                walk(f"{path}/{key}", a.get(key), b.get(key))
        elif a != b:
            changes.append((path, a, b))

    walk("", before, after)
    return changes


def grant_total(lines: list[float]) -> float:
    """Annex 3 §3: the indicative grant's computed total, rounded to cents."""
    return round(sum(lines), 2)


class CaseNote(SQLModel, table=True):
    """A case worker's note. Confidential notes are shown only to callers with `cases.sensitive:read`."""

    __tablename__ = "case_notes"
    __table_args__ = (
        Index("ix_case_notes_case_written", "case_id", "written_at", "id"),
        CheckConstraint("sealed_body IS NULL OR body = ''", name="sealed_has_no_plaintext"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    case_id: UUID = Field(foreign_key="cases.id")
    body: str  # `""` for a confidential note: its body is sealed in `sealed_body` (see Assessment.data)
    sealed_body: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    is_confidential: bool = False
    author: str
    written_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))

    @property
    def is_erased(self) -> bool:
        return self.sealed_body is not None and not self.body

"""Assistance items of a plan: the catalogue of reintegration.md §9, modality, amounts and tranches."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import CheckConstraint, Column, DateTime, Numeric
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from case_service.domain.errors import DateInFuture, TrancheNotDeliverable
from casebridge_common.db import enum_type


class Dimension(StrEnum):
    ECONOMIC = "economic"
    SOCIAL = "social"
    PSYCHOSOCIAL = "psychosocial"


class AssistanceType(StrEnum):
    IMMEDIATE_CASH = "immediate_cash"
    INCOME_GENERATING_ACTIVITY = "income_generating_activity"
    BUSINESS_DEVELOPMENT_SUPPORT = "business_development_support"
    JOB_PLACEMENT = "job_placement"
    CASH_FOR_WORK = "cash_for_work"
    SKILLS_DEVELOPMENT_TVET = "skills_development_tvet"
    ACCESS_TO_BANKING_MICROFINANCE = "access_to_banking_microfinance"
    BUDGETING_FINANCIAL_COUNSELLING = "budgeting_financial_counselling"
    HOUSING_ACCOMMODATION = "housing_accommodation"
    DOCUMENTATION = "documentation"
    SOCIAL_PROTECTION_SCHEMES = "social_protection_schemes"
    EDUCATION_AND_TRAINING = "education_and_training"
    HEALTH_AND_WELLBEING = "health_and_wellbeing"
    FOOD_AND_WATER = "food_and_water"
    JUSTICE_AND_RIGHTS = "justice_and_rights"
    CHILD_CARE = "child_care"
    SPECIAL_SECURITY_MEASURES = "special_security_measures"
    TRANSPORT = "transport"
    ACCOMPANIMENT_TO_SERVICES = "accompaniment_to_services"
    REINTEGRATION_COUNSELLING = "reintegration_counselling"
    PSYCHOLOGICAL_FIRST_AID = "psychological_first_aid"
    PSYCHOSOCIAL_COUNSELLING = "psychosocial_counselling"
    FAMILY_COUNSELLING = "family_counselling"
    MHPSS_REFERRAL = "mhpss_referral"
    ORIENTATION_PACKAGE = "orientation_package"
    COMMUNITY_LEVEL_ACTIVITIES = "community_level_activities"


_ECONOMIC = {
    AssistanceType.IMMEDIATE_CASH,
    AssistanceType.INCOME_GENERATING_ACTIVITY,
    AssistanceType.BUSINESS_DEVELOPMENT_SUPPORT,
    AssistanceType.JOB_PLACEMENT,
    AssistanceType.CASH_FOR_WORK,
    AssistanceType.SKILLS_DEVELOPMENT_TVET,
    AssistanceType.ACCESS_TO_BANKING_MICROFINANCE,
    AssistanceType.BUDGETING_FINANCIAL_COUNSELLING,
}
_PSYCHOSOCIAL = {
    AssistanceType.REINTEGRATION_COUNSELLING,
    AssistanceType.PSYCHOLOGICAL_FIRST_AID,
    AssistanceType.PSYCHOSOCIAL_COUNSELLING,
    AssistanceType.FAMILY_COUNSELLING,
    AssistanceType.MHPSS_REFERRAL,
    AssistanceType.ORIENTATION_PACKAGE,
    AssistanceType.COMMUNITY_LEVEL_ACTIVITIES,
}


def dimension_of(assistance_type: AssistanceType) -> Dimension:
    if assistance_type in _ECONOMIC:
        return Dimension.ECONOMIC
    if assistance_type in _PSYCHOSOCIAL:
        return Dimension.PSYCHOSOCIAL
    return Dimension.SOCIAL


class Modality(StrEnum):
    CASH = "cash"
    IN_KIND = "in_kind"
    VOUCHER = "voucher"
    SERVICE = "service"


class AssistanceStatus(StrEnum):
    PLANNED = "planned"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    UNMET_NEED = "unmet_need"


@dataclass(frozen=True, slots=True)
class Tranche:
    number: int
    amount: Decimal
    due_on: date
    delivered_on: date | None


class AssistanceItem(SQLModel, table=True):
    __tablename__ = "assistance_items"
    __table_args__ = (
        CheckConstraint("(plan_version IS NULL) = (plan_item IS NULL)", name="plan_item_with_its_version"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    case_id: UUID = Field(foreign_key="cases.id", index=True)
    assistance_type: AssistanceType = Field(sa_type=enum_type(AssistanceType))
    dimension: Dimension = Field(sa_type=enum_type(Dimension))
    modality: Modality = Field(sa_type=enum_type(Modality))
    amount: Decimal | None = Field(default=None, sa_column=Column(Numeric(14, 2)))
    currency: str | None = Field(default=None, max_length=3)
    provider: str | None = None
    # the plan item it delivers: a version of the case's plan and the item's index in it
    plan_version: int | None = None
    plan_item: int | None = None
    status: AssistanceStatus = Field(sa_type=enum_type(AssistanceStatus))
    # [{number, amount, due_on, delivered_on}] in tranche order; JSON keeps the instalment plan in one row
    tranches: list[dict[str, str | int | None]] = Field(sa_column=Column(JSONB, nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


def tranches_of(item: AssistanceItem) -> list[Tranche]:
    return [
        Tranche(
            number=int(str(t["number"])),
            amount=Decimal(str(t["amount"])),
            due_on=date.fromisoformat(str(t["due_on"])),
            delivered_on=None if t["delivered_on"] is None else date.fromisoformat(str(t["delivered_on"])),
        )
        for t in item.tranches
    ]


def deliver(tranches: list[Tranche], number: int, on: date, *, today: date) -> list[Tranche]:
    """Tranches are delivered in order, once each (R38-R40: business status is tracked tranche by tranche), and
    a delivery is recorded once it happened, not ahead."""
    DateInFuture.check(on, today=today, pointer="#/delivered_on")
    pending = [t for t in tranches if t.delivered_on is None]
    if not pending or pending[0].number != number:
        raise TrancheNotDeliverable(tranche_number=number)
    return [Tranche(t.number, t.amount, t.due_on, on) if t.number == number else t for t in tranches]


def all_delivered(tranches: list[Tranche]) -> bool:
    return all(t.delivered_on is not None for t in tranches)


def version_of(item: AssistanceItem) -> int:
    """An item's version, derived from its state: 1 when planned, one more per delivered tranche and one more
    once closed. Its writes only deliver the next tranche or close it once, so each moves the version on (an
    offline edit names the version it was made on, as with If-Match)."""
    delivered = sum(1 for t in item.tranches if t["delivered_on"] is not None)
    closed = item.status in (AssistanceStatus.CANCELLED, AssistanceStatus.UNMET_NEED)
    return 1 + delivered + int(closed)

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import pytest

from case_service.domain.assistance import (
    AssistanceItem,
    AssistanceStatus,
    AssistanceType,
    Dimension,
    Modality,
    Tranche,
    all_delivered,
    deliver,
    dimension_of,
    version_of,
)
from case_service.domain.errors import DateInFuture, TrancheNotDeliverable

PLAN = [Tranche(1, Decimal(200), date(2027, 1, 15), None), Tranche(2, Decimal(100), date(2027, 4, 15), None)]


TODAY = date(2027, 6, 1)


def test_tranches_are_delivered_in_order_once_each() -> None:
    with pytest.raises(TrancheNotDeliverable):
        deliver(PLAN, 2, date(2027, 1, 20), today=TODAY)
    first = deliver(PLAN, 1, date(2027, 1, 20), today=TODAY)
    assert (first[0].delivered_on, all_delivered(first)) == (date(2027, 1, 20), False)
    with pytest.raises(TrancheNotDeliverable):
        deliver(first, 1, date(2027, 1, 21), today=TODAY)
    both = deliver(first, 2, date(2027, 4, 16), today=TODAY)
    assert all_delivered(both)
    with pytest.raises(TrancheNotDeliverable):
        deliver(both, 3, date(2027, 5, 1), today=TODAY)


def test_a_delivery_is_recorded_on_or_after_its_day_never_ahead() -> None:
    assert deliver(PLAN, 1, TODAY, today=TODAY)[0].delivered_on == TODAY
    with pytest.raises(DateInFuture) as refused:
        deliver(PLAN, 1, date(2027, 6, 2), today=TODAY)
    assert refused.value.context == {"pointer": "#/delivered_on"}


@pytest.mark.parametrize(
    ("assistance_type", "dimension"),
    [
        (AssistanceType.CASH_FOR_WORK, Dimension.ECONOMIC),
        (AssistanceType.BUDGETING_FINANCIAL_COUNSELLING, Dimension.ECONOMIC),
        (AssistanceType.HOUSING_ACCOMMODATION, Dimension.SOCIAL),
        (AssistanceType.ACCOMPANIMENT_TO_SERVICES, Dimension.SOCIAL),
        (AssistanceType.PSYCHOLOGICAL_FIRST_AID, Dimension.PSYCHOSOCIAL),
        (AssistanceType.COMMUNITY_LEVEL_ACTIVITIES, Dimension.PSYCHOSOCIAL),
    ],
)
def test_each_catalogue_type_belongs_to_its_dimension(assistance_type: AssistanceType, dimension: Dimension) -> None:
    assert dimension_of(assistance_type) is dimension


def test_an_items_version_moves_on_with_each_delivered_tranche_and_with_its_closure() -> None:
    tranches: list[dict[str, str | int | None]] = [
        {"number": 1, "amount": "200", "due_on": "2027-01-15", "delivered_on": None},
        {"number": 2, "amount": "100", "due_on": "2027-04-15", "delivered_on": None},
    ]
    item = AssistanceItem(
        case_id=uuid4(),
        assistance_type=AssistanceType.CASH_FOR_WORK,
        dimension=Dimension.ECONOMIC,
        modality=Modality.CASH,
        status=AssistanceStatus.PLANNED,
        tranches=tranches,
        created_at=datetime(2026, 12, 2, tzinfo=UTC),
    )
    assert version_of(item) == 1
    item.tranches = [tranches[0] | {"delivered_on": "2027-01-16"}, tranches[1]]
    assert version_of(item) == 2
    item.status = AssistanceStatus.UNMET_NEED
    assert version_of(item) == 3

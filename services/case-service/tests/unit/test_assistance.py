from datetime import date
from decimal import Decimal

import pytest

from case_service.domain.assistance import AssistanceType, Dimension, Tranche, all_delivered, deliver, dimension_of
from case_service.domain.errors import TrancheNotDeliverable

PLAN = [Tranche(1, Decimal(200), date(2027, 1, 15), None), Tranche(2, Decimal(100), date(2027, 4, 15), None)]


def test_tranches_are_delivered_in_order_once_each() -> None:
    with pytest.raises(TrancheNotDeliverable):
        deliver(PLAN, 2, date(2027, 1, 20))
    first = deliver(PLAN, 1, date(2027, 1, 20))
    assert (first[0].delivered_on, all_delivered(first)) == (date(2027, 1, 20), False)
    with pytest.raises(TrancheNotDeliverable):
        deliver(first, 1, date(2027, 1, 21))
    both = deliver(first, 2, date(2027, 4, 16))
    assert all_delivered(both)
    with pytest.raises(TrancheNotDeliverable):
        deliver(both, 3, date(2027, 5, 1))


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

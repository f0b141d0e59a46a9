from pydantic import Field

from casebridge_common.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "scoring-service"
    oidc_audience: str = "scoring-api"
    baseline_window_days: int = Field(default=30, ge=1, description="CB-DEFAULT: baseline due within a month")
    overdue_check_s: float = Field(default=300, gt=0, description="how often the worker looks for overdue surveys")
    indicators_minimum_cell_count: int = Field(
        default=5, ge=2, description="aggregate cells with fewer administrations show no figures"
    )

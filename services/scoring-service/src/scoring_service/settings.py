from pydantic import Field

from casebridge_common.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "scoring-service"
    oidc_audience: str = "scoring-api"
    baseline_window_days: int = Field(default=30, ge=1, description="CB-DEFAULT: baseline due within a month")

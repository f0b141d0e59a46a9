from pydantic import Field, SecretStr

from casebridge_common.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "scoring-service"
    oidc_audience: str = "scoring-api"
    baseline_window_days: int = Field(default=30, ge=1, description="CB-DEFAULT: baseline due within a month")
    overdue_check_s: float = Field(default=300, gt=0, description="how often the worker looks for overdue surveys")
    indicators_minimum_cell_count: int = Field(
        default=5, ge=2, description="aggregate cells with fewer distinct cases show no figures"
    )
    # keys the cell-key perturbation of every indicator figure (domain/indicators.py); ≥ 32 random characters,
    # e.g. `openssl rand -base64 48`, kept stable (a new key gives every cell new noise, which can then be
    # averaged across the two). The default is a public local-development value: the base settings refuse it in
    # staging and production.
    indicators_perturbation_key: SecretStr = Field(
        default=SecretStr("localdev-indicators-perturbation-key-not-a-secret"), min_length=32
    )

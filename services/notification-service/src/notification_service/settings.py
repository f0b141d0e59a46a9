from pydantic import Field, SecretStr

from casebridge_common.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "notification-service"
    oidc_audience: str = "notification-api"
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    webhook_backoff_base_s: float = Field(default=5.0, gt=0, description="first retry after about this long")
    webhook_backoff_max_s: float = Field(default=3600.0, gt=0)
    webhook_max_attempts: int = Field(default=8, ge=1, description="per delivery; then it is marked failed")
    webhook_pause_after_failures: int = Field(default=5, ge=1, description="consecutive failures → paused")
    smtp_host: str | None = Field(default=None, description="e-mail is off unless set")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "CaseBridge <no-reply@casebridge.local>"
    smtp_timeout_s: float = Field(default=30.0, gt=0)
    sms_provider_url: str | None = Field(
        default=None, description="SMS is off unless set: the provider's JSON endpoint"
    )
    sms_api_key: SecretStr | None = Field(default=None, description="sent as a bearer token to the SMS provider")
    sms_timeout_s: float = Field(default=10.0, gt=0)

"""Process settings. Built once per process (``create_app`` / ``worker.main``), never at import."""

from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["local", "test", "staging", "production"]


class ServiceSettings(BaseSettings):
    """What every CaseBridge process needs. Environment variables are the field names in upper case."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    service_name: str
    environment: Environment = "local"
    database_url: SecretStr = Field(description="postgresql+asyncpg://… ; may carry a password")
    database_pool_size: int = Field(default=10, ge=1)
    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    kafka_topic_prefix: str = Field(default="", description="lets tests isolate topics on one broker")
    oidc_issuer: str = Field(description="compared with `iss` byte for byte, so not normalised as a URL")
    oidc_audience: str
    jwks_refresh_s: int = Field(default=600, ge=10)
    otel_enabled: bool = False
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _refuse_local_defaults_outside_development(self) -> Self:
        if self.environment in ("staging", "production"):
            for name, value in self:
                secret = value.get_secret_value() if isinstance(value, SecretStr) else None
                if secret is not None and "localdev" in secret:
                    raise ValueError(f"{name} holds a local-development default; set a real secret")
            if self.oidc_issuer.startswith("http://"):
                raise ValueError("oidc_issuer must use https outside development")
        return self

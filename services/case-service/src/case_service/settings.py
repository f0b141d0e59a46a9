from pydantic import Field, SecretStr

from case_service.domain.vault import KeyEncryptionKey
from casebridge_common.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "case-service"
    oidc_audience: str = "case-api"
    # a cross-border transfer's recipient answers within this many days; the reminder is due after the second
    transfer_respond_within_days: int = Field(default=7, ge=1, le=90)
    transfer_reminder_after_days: int = Field(default=4, ge=1, le=90)
    # every holder of copies acknowledges a consent withdrawal within this SLA (data-protection.md §2.4.4)
    withdrawal_acknowledgement_hours: int = Field(default=24, ge=1, le=24 * 30)
    withdrawal_holders: tuple[str, ...] = ("referral-service", "scoring-service", "notification-service")
    # a break-glass grant lasts this long (data-protection.md §5, CB-DEFAULT 4 h)
    break_glass_hours: float = Field(default=4.0, gt=0, le=24)
    # a planned follow-up visit not recorded this many days after its date is overdue (`case.follow_up_due`)
    follow_up_overdue_after_days: int = Field(default=7, ge=1, le=365)
    # how often the worker's periodic jobs (consent expiry, ...) run
    jobs_every_s: float = Field(default=60.0, gt=0)
    # wraps every beneficiary's data key (domain/vault.py); ≥ 32 random bytes, e.g. `openssl rand -base64 48`.
    # The default is a public local-development value: the base settings refuse it in staging and production.
    data_key_encryption_key: SecretStr = Field(
        default=SecretStr("localdev-data-key-encryption-key-not-a-secret"), min_length=32
    )
    data_key_encryption_key_version: int = Field(default=1, ge=1)
    # the largest document content accepted on upload (413 `document-too-large` above it)
    document_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1, le=100 * 1024 * 1024)
    # bulk caseload imports: upload limits, rows per worker transaction, and how often an idle worker looks
    import_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    import_max_rows: int = Field(default=100_000, ge=1)
    import_batch_rows: int = Field(default=200, ge=1, le=5_000)
    import_poll_s: float = Field(default=2.0, gt=0)

    def key_encryption_key(self) -> KeyEncryptionKey:
        return KeyEncryptionKey.derive(
            self.data_key_encryption_key.get_secret_value(), self.data_key_encryption_key_version
        )

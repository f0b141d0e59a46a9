"""Inbox items and webhook subscriptions. Texts hold no personal data; they point at the case by id."""

from datetime import datetime, time
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    Time,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from casebridge_common.db import empty_dict, enum_type
from casebridge_common.events.contracts.consent import WithdrawalKind


class InboxKind(StrEnum):
    CASE_OPENED = "case_opened"
    SURVEY_DUE = "survey_due"
    WEBHOOK_PAUSED = "webhook_paused"
    CASE_SHARED = "case_shared"
    CASE_TRANSFER_PROPOSED = "case_transfer_proposed"
    CASE_TRANSFER_REMINDER = "case_transfer_reminder"
    CASE_TRANSFERRED = "case_transferred"
    CASE_TRANSFER_ENDED = "case_transfer_ended"
    BREAK_GLASS_USED = "break_glass_used"
    FOLLOW_UP_DUE = "follow_up_due"
    WITHDRAWAL_RECEIPT_OVERDUE = "withdrawal_receipt_overdue"


class InboxItem(SQLModel, table=True):
    """Addressed to an office or, for an organisation-bound partner, to an organisation; optionally to one user
    (`recipient_subject`) within it. Read and archive state belong to the item, so an office shares them."""

    __tablename__ = "inbox_items"
    __mapper_args__ = {"eager_defaults": True}  # the change number is read back at insert
    __table_args__ = (
        Index("ix_inbox_items_office_created", "office_id", "created_at", "id"),
        Index("ix_inbox_items_organisation_created", "organisation_id", "created_at", "id"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    office_id: str | None = Field(default=None)
    organisation_id: str | None = Field(default=None)
    recipient_subject: str | None = Field(default=None)
    kind: InboxKind = Field(sa_type=enum_type(InboxKind))
    title: str
    case_id: UUID | None = Field(default=None, index=True)
    source_event_id: str
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    read_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    archived_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))
    urgent: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default="false"))
    # set when a consent withdrawal or an erasure replaced the title: the item keeps only its kind and case id
    redacted_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    # Bumped (SET change_seq = DEFAULT) on every change, under the addressee's advisory lock, so per addressee
    # the numbers follow commit order and a mobile client's delta cursor never skips a change.
    change_seq: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(always=False), nullable=False, index=True)
    )


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"


class Subscription(SQLModel, table=True):
    """A partner system's webhook: event types, a filter on payload fields, an endpoint and a shared secret."""

    __tablename__ = "subscriptions"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    owner_client_id: str
    owner_office_id: str | None = Field(default=None, index=True)
    owner_organisation_id: str | None = Field(default=None, index=True)
    event_types: list[str] = Field(sa_column=Column(ARRAY(String), nullable=False))
    filter: dict[str, str] = Field(default_factory=empty_dict, sa_column=Column(JSONB, nullable=False))
    url: str
    description: str | None = Field(default=None)
    # HMAC needs the secret itself, so it cannot be hashed; it is never returned after creation.
    secret: str
    status: SubscriptionStatus = Field(sa_type=enum_type(SubscriptionStatus))
    consecutive_failures: int = Field(default=0)
    paused_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    version: int = Field(default=1)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    WITHHELD = "withheld"  # stopped before delivery: the consent behind its payload was withdrawn


class WebhookDelivery(SQLModel, table=True):
    """One event for one subscription. `seq` orders a subscription's deliveries: only the oldest pending one
    may be attempted, so a subscriber sees events in the order they were consumed."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_queue", "subscription_id", "status", "seq"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    seq: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(always=True), nullable=False))
    subscription_id: UUID = Field(sa_column=Column(ForeignKey("subscriptions.id", ondelete="CASCADE"), nullable=False))
    event_id: str
    event_type: str
    event: dict[str, object] = Field(sa_column=Column(JSONB, nullable=False))
    status: DeliveryStatus = Field(sa_type=enum_type(DeliveryStatus))
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    last_attempt_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    last_status_code: int | None = Field(default=None)
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    delivered_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    replay_of: UUID | None = Field(default=None)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    # set when the payload's data were removed from the store; a redacted delivery is never replayed
    redacted_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class Language(StrEnum):
    EN = "en"
    FR = "fr"
    AR = "ar"


class Channel(StrEnum):
    INBOX = "inbox"
    EMAIL = "email"
    SMS = "sms"


class NotificationPreference(SQLModel, table=True):
    """How an office (or organisation), or one user of it, wants to be told. The in-app inbox is always on."""

    __tablename__ = "notification_preferences"

    owner_key: str = Field(primary_key=True)  # "office:<id>" or "organisation:<id>", then "|user:<sub>"
    office_id: str | None = Field(default=None)
    organisation_id: str | None = Field(default=None)
    subject: str | None = Field(default=None)
    channels: list[str] = Field(sa_column=Column(ARRAY(String), nullable=False))  # Channel values
    email_address: str | None = Field(default=None)
    phone_number: str | None = Field(default=None)  # E.164, for the SMS channel
    language: Language = Field(default=Language.EN, sa_type=enum_type(Language))
    timezone: str = Field(default="UTC")
    quiet_hours_start: time | None = Field(default=None, sa_column=Column(Time, nullable=True))
    quiet_hours_end: time | None = Field(default=None, sa_column=Column(Time, nullable=True))
    digest: bool = Field(default=False)
    version: int = Field(default=1)
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class MailStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    WITHHELD = "withheld"  # stopped before sending: the consent behind its text was withdrawn


class EmailMessage(SQLModel, table=True):
    """A rendered mail waiting for the mailer; written in the transaction that created its inbox item."""

    __tablename__ = "email_messages"
    __table_args__ = (Index("ix_email_messages_due", "status", "next_attempt_at"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    inbox_item_id: UUID
    to_address: str
    language: Language = Field(sa_type=enum_type(Language))
    kind: InboxKind = Field(sa_type=enum_type(InboxKind))
    subject: str
    text_body: str = Field(sa_column=Column(Text, nullable=False))
    html_body: str = Field(sa_column=Column(Text, nullable=False))
    digest: bool = Field(default=False)
    status: MailStatus = Field(sa_type=enum_type(MailStatus))
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    redacted_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class EmailTemplate(SQLModel, table=True):
    """An office's (or organisation's) own e-mail text for one inbox kind and language, used over the shipped one."""

    __tablename__ = "email_templates"

    owner_key: str = Field(primary_key=True)  # "office:<id>" or "organisation:<id>"
    kind: InboxKind = Field(primary_key=True, sa_type=enum_type(InboxKind))
    language: Language = Field(primary_key=True, sa_type=enum_type(Language))
    subject: str
    text: str = Field(sa_column=Column(Text, nullable=False))
    version: int = Field(default=1)
    updated_by: str
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class SmsMessage(SQLModel, table=True):
    """A text message waiting for the SMS sender; written in the transaction that created its inbox item."""

    __tablename__ = "sms_messages"
    __table_args__ = (Index("ix_sms_messages_due", "status", "next_attempt_at"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    inbox_item_id: UUID
    to_number: str
    text: str = Field(sa_column=Column(Text, nullable=False))
    status: MailStatus = Field(sa_type=enum_type(MailStatus))
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    redacted_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class WithdrawalReceipt(SQLModel, table=True):
    """What notification-service did about one consent withdrawal, and the acknowledgement it sent for it."""

    __tablename__ = "withdrawal_receipts"

    withdrawal_id: UUID = Field(primary_key=True)
    consent_id: UUID
    beneficiary_id: UUID = Field(index=True)
    kind: WithdrawalKind = Field(sa_type=enum_type(WithdrawalKind))
    case_ids: list[UUID] = Field(sa_column=Column(ARRAY(Uuid), nullable=False))
    withheld: int  # e-mails, texts and webhook deliveries stopped before they left
    purged: int
    redacted: int
    acknowledged_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class BeneficiaryErasure(SQLModel, table=True):
    """The trace an erasure leaves here: which cases, how many stored copies were purged, when."""

    __tablename__ = "beneficiary_erasures"

    beneficiary_id: UUID = Field(primary_key=True)
    case_ids: list[UUID] = Field(sa_column=Column(ARRAY(Uuid), nullable=False))
    purged: int
    redacted: int
    erased_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    processed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))

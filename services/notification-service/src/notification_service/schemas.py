"""Request and response bodies of the notification API."""

from typing import Annotated
from uuid import UUID

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from casebridge_common.http import IsoDateTime, IsoTime
from notification_service.domain.models import Channel, DeliveryStatus, InboxKind, Language, SubscriptionStatus


class InboxItemRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "1b4e28ba-2fa1-4d3b-9a6e-7c1f0e2d3c4b",
                    "office_id": "de-berlin",
                    "organisation_id": None,
                    "recipient_subject": None,
                    "kind": "case_opened",
                    "title": "New return & reintegration case opened",
                    "case_id": "7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11",
                    "created_at": "2026-12-01T10:00:00Z",
                    "read_at": None,
                    "archived_at": None,
                    "version": 1,
                    "urgent": False,
                    "redacted_at": None,
                }
            ]
        },
    )

    id: UUID
    office_id: str | None
    organisation_id: str | None
    recipient_subject: str | None = Field(description="set when the item is for one user of the office")
    kind: InboxKind
    title: str
    case_id: UUID | None
    created_at: IsoDateTime
    read_at: IsoDateTime | None
    archived_at: IsoDateTime | None
    version: int
    urgent: bool = Field(default=False, description="emergency access to a case: mailed at once, no digest")
    redacted_at: IsoDateTime | None = Field(
        default=None, description="the title was withheld after a consent withdrawal or an erasure"
    )


class InboxItemPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"read": True}, {"archived": True}]})

    read: bool | None = Field(default=None, description="true: mark read; false: mark unread")
    archived: bool | None = Field(default=None, description="true: archive; false: back to the inbox")

    @model_validator(mode="after")
    def _something_to_change(self) -> "InboxItemPatch":
        if self.read is None and self.archived is None:
            raise ValueError("set `read`, `archived` or both")
        return self


class UnreadCounts(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"total": 3, "by_kind": {"case_opened": 2, "survey_due": 1}}]}
    )

    total: int
    by_kind: dict[InboxKind, int]


class InboxChanges(BaseModel):
    """Every item created or changed (read, unread, archived) after the cursor, oldest change first."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [], "next_cursor": "eyJhIjpbNDJdfQ", "has_more": False}]}
    )

    items: list[InboxItemRead]
    next_cursor: str = Field(description="pass it as `since` next time; also returned when nothing changed")
    has_more: bool


FilterKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
FilterValue = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class CreateSubscription(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "event_types": ["casebridge.case.opened.v1", "casebridge.survey.due.v1"],
                    "url": "https://partner.example/casebridge/webhooks",
                    "filter": {"programme": "return_reintegration"},
                    "description": "case management system of the Berlin office",
                }
            ]
        },
    )

    event_types: list[Annotated[str, StringConstraints(max_length=200)]] = Field(min_length=1, max_length=50)
    url: AnyHttpUrl = Field(description="HTTPS; plain http://127.0.0.1 only in local and test environments")
    filter: dict[FilterKey, FilterValue] = Field(
        default_factory=dict,
        max_length=10,
        description="top-level payload fields that must equal these values (compared as text)",
    )
    description: str | None = Field(default=None, max_length=500)


class SubscriptionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    event_types: list[str]
    url: str
    filter: dict[str, str]
    description: str | None
    status: SubscriptionStatus
    consecutive_failures: int
    paused_at: IsoDateTime | None
    created_at: IsoDateTime
    version: int


class SubscriptionCreated(SubscriptionRead):
    secret: str = Field(description="the HMAC key for `CaseBridge-Signature`; shown only in this response")


class SubscriptionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"status": "active"}]})

    status: SubscriptionStatus = Field(description="`active` resumes a paused subscription where it stopped")


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    subscription_id: UUID
    event_id: str = Field(description="also the `Idempotency-Key` header the subscriber received")
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: IsoDateTime
    last_attempt_at: IsoDateTime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: IsoDateTime | None
    replay_of: UUID | None
    created_at: IsoDateTime
    redacted_at: IsoDateTime | None = Field(
        default=None, description="the event's data were removed after a consent withdrawal; never replayed"
    )
    event: dict[str, object]


class PreferencesRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    channels: list[Channel]
    email_address: str | None
    phone_number: str | None
    language: Language
    timezone: str
    quiet_hours_start: IsoTime | None
    quiet_hours_end: IsoTime | None
    digest: bool
    version: int


class SetPreferences(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "channels": ["inbox", "email"],
                    "email_address": "berlin-office@iom.example",
                    "language": "fr",
                    "timezone": "Europe/Berlin",
                    "quiet_hours_start": "20:00:00",
                    "quiet_hours_end": "07:00:00",
                    "digest": False,
                }
            ]
        },
    )

    channels: list[Channel] = Field(min_length=1, description="the inbox is always on")
    email_address: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone_number: str | None = Field(default=None, pattern=r"^\+[1-9][0-9]{6,14}$", description="E.164, for SMS")
    language: Language = Language.EN
    timezone: str = Field(default="UTC", max_length=64, description="IANA name; quiet hours are local to it")
    quiet_hours_start: IsoTime | None = Field(default=None, description="no mail from this local time…")
    quiet_hours_end: IsoTime | None = Field(default=None, description="…until this one (may span midnight)")
    digest: bool = Field(default=False, description="one mail a day (07:00 local) instead of one per event")

    @model_validator(mode="after")
    def _quiet_hours_together(self) -> "SetPreferences":
        if (self.quiet_hours_start is None) != (self.quiet_hours_end is None):
            raise ValueError("set both quiet_hours_start and quiet_hours_end, or neither")
        return self


class TemplateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: InboxKind
    language: Language
    subject: str
    text: str = Field(description="the plain-text part; the HTML part is laid out from it")
    version: int = Field(description="0: the shipped template, not edited yet")
    placeholders: list[str] = Field(default_factory=list, description="what `{{ … }}` may name")


class SetTemplate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"subject": "Case opened", "text": "A {{ programme }} case was opened.\nCase: {{ case_id }}"}]
        },
    )

    subject: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    text: Annotated[str, StringConstraints(min_length=1, max_length=20000)]

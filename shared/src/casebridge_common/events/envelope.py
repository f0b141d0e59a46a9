"""CloudEvents 1.0, structured mode: the value of every CaseBridge Kafka record.

Kafka key = ``subject`` = the aggregate id, so one aggregate's events share a partition and stay in order.
``id`` is what consumers de-duplicate on.
"""

import json
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_jsonable_python

CLOUDEVENTS_CONTENT_TYPE = "application/cloudevents+json"
SCHEMA_BASE = "https://casebridge.example/asyncapi#/components/messages/"


class Event(BaseModel):
    """A published contract. Payloads carry identifiers and non-sensitive facts only."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    type: ClassVar[str]
    topic: ClassVar[str]

    def aggregate_id(self) -> UUID:
        raise NotImplementedError


class CloudEvent(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    specversion: str = "1.0"
    id: str = Field(default_factory=lambda: str(uuid4()))
    source: str
    type: str
    subject: str
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    datacontenttype: str = "application/json"
    dataschema: str | None = None
    traceparent: str | None = None
    data: dict[str, Any]

    @classmethod
    def wrap(cls, event: Event, *, source: str, traceparent: str | None = None) -> "CloudEvent":
        return cls.model_validate(cls.document(event, source=source, traceparent=traceparent))

    @staticmethod
    def document(event: Event, *, source: str, traceparent: str | None = None) -> dict[str, Any]:
        """The envelope of a new event as its JSON document, exactly as ``wrap(…).model_dump(mode="json",
        exclude_none=True)`` (tests/unit/test_envelope.py) without building the model: the outbox stores this for
        every event it is given."""
        document: dict[str, Any] = {
            "specversion": "1.0",
            "id": str(uuid4()),
            "source": source,
            "type": event.type,
            "subject": str(event.aggregate_id()),
            "time": to_jsonable_python(datetime.now(UTC)),
            "datacontenttype": "application/json",
            "dataschema": SCHEMA_BASE + event.type,
            "data": event.model_dump(mode="json"),
        }
        if traceparent is not None:
            document["traceparent"] = traceparent
        return document


def json_bytes(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()

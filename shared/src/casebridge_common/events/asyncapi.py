"""Renders ``deploy/asyncapi.yaml`` from the event contracts, so the document cannot drift from the code.

`python -m casebridge_common.events.asyncapi > deploy/asyncapi.yaml`; a unit test compares the two.
"""

import sys
from pathlib import Path
from typing import Any

import yaml

from casebridge_common.events.contracts import ALL_EVENTS
from casebridge_common.events.envelope import CloudEvent, Event
from casebridge_common.kafka import load_topic_specs

TOPICS_FILE = Path(__file__).resolve().parents[4] / "deploy" / "kafka" / "topics.yaml"


def _message_name(event: type[Event]) -> str:
    return event.type.removeprefix("casebridge.")


def _schema(model: type[Event], shared: dict[str, Any]) -> dict[str, Any]:
    """The payload schema; nested definitions (enums) move to components.schemas, where the refs point."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    shared.update(schema.pop("$defs", {}))
    schema.pop("title", None)
    return schema


def document(topics_file: Path = TOPICS_FILE) -> dict[str, Any]:
    specs = {t.name: t for t in load_topic_specs(topics_file)}
    envelope = CloudEvent.model_json_schema()
    envelope["properties"]["data"] = {"description": "the event payload: see each message"}
    schemas: dict[str, Any] = {"CloudEvent": envelope}
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for event in ALL_EVENTS:
        name = _message_name(event)
        messages[name] = {
            "name": event.type,
            "title": event.__name__,
            "summary": (event.__doc__ or "").strip().split("\n")[0] or event.__name__,
            "contentType": "application/cloudevents+json",
            "headers": {
                "type": "object",
                "properties": {
                    "content-type": {"const": "application/cloudevents+json"},
                    "ce_type": {"const": event.type},
                    "traceparent": {"type": "string", "description": "W3C trace context of the producer span"},
                },
            },
            "correlationId": {"location": "$message.payload#/subject", "description": "the aggregate id (= key)"},
            "payload": {
                "allOf": [
                    {"$ref": "#/components/schemas/CloudEvent"},
                    {
                        "type": "object",
                        "properties": {"type": {"const": event.type}, "data": _schema(event, schemas)},
                    },
                ]
            },
            "bindings": {
                "kafka": {
                    "key": {
                        "type": "string",
                        "format": "uuid",
                        "description": "the aggregate id; one aggregate's events stay in order",
                    }
                }
            },
        }
        channel = channels.setdefault(
            event.topic,
            {
                "address": event.topic,
                "description": f"produced by {specs[event.topic].producer}; key = aggregate id",
                "messages": {},
            },
        )
        channel["messages"][name] = {"$ref": f"#/components/messages/{name}"}
    for topic in channels:
        operations[f"publish.{topic}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{topic}"},
            "summary": f"{specs[topic].producer} publishes through its transactional outbox",
        }
        for consumer in specs[topic].consumers:
            operations[f"{consumer}.receive.{topic}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{topic}"},
                "summary": f"{consumer} consumes idempotently (consumer group {consumer}; dead letters to "
                f"casebridge.{consumer}.dlq)",
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "CaseBridge events",
            "version": "1.0.0",
            "description": (
                "Every Kafka record is a CloudEvents 1.0 envelope in structured mode. Payloads carry identifiers "
                "and non-sensitive facts only; consumers read details through the APIs under their own "
                "authorisation. Types are versioned (`….v1`); a breaking change is a new type. Consumers "
                "de-duplicate on `id`. Generated from casebridge_common.events.contracts: do not edit by hand."
            ),
        },
        "servers": {"local": {"host": "127.0.0.1:19092", "protocol": "kafka", "description": "make up"}},
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }


def render() -> str:
    return yaml.safe_dump(document(), sort_keys=False, allow_unicode=True, width=110)


if __name__ == "__main__":
    sys.stdout.write(render())

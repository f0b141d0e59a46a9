"""Crypto-shredding reaches Kafka only because events never carry personal data: ids and non-sensitive facts
only (the contract rule of events/contracts). This check fails when a contract grows a field that would."""

import types
from pathlib import Path
from typing import Union, get_args, get_origin

import yaml
from pydantic import BaseModel

from casebridge_common.events.contracts import ALL_EVENTS

# field names that hold a person's identity, contacts or sensitive content (data-protection.md §1.1)
DENIED = frozenset(
    {
        "given_name",
        "family_name",
        "full_name",
        "name",
        "born_on",
        "date_of_birth",
        "phone",
        "email",
        "address",
        "gps",
        "body",
        "data",
        "content",
        "payload",
        "note",
        "notes",
        "narrative",
        "testimony",
        "diagnosis",
        "medication",
        "answers",
        "responses",
        "child_views",
        "given_by_name",
        "justification",
        "findings",
        "categories_found",
    }
)


def _models(annotation: object) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if get_origin(annotation) in (Union, types.UnionType, list, dict, tuple, set, frozenset):
        return [m for arg in get_args(annotation) for m in _models(arg)]
    return []


def _field_names(model: type[BaseModel], seen: set[type[BaseModel]]) -> list[str]:
    if model in seen:
        return []
    seen.add(model)
    names = []
    for name, info in model.model_fields.items():
        names.append(f"{model.__name__}.{name}")
        for nested in _models(info.annotation):
            names += _field_names(nested, seen)
    return names


def test_no_event_contract_has_a_field_for_personal_data() -> None:
    fields = [f for event in ALL_EVENTS for f in _field_names(event, set())]
    assert len(ALL_EVENTS) > 20  # the walk itself works
    assert len(fields) > 100
    offending = sorted(f for f in fields if f.rsplit(".", 1)[1] in DENIED)
    assert offending == [], f"events must carry ids and non-sensitive facts only: {offending}"


# Banded facts that are personal data in combination (quasi-identifiers). They may travel only in the consented
# monitoring profile, on its own topic, which keeps messages briefly: erasure and withdrawal cannot reach a
# message already on a topic, so old profiles must age out rather than wait there.
QUASI_IDENTIFIERS = frozenset(
    {
        "sex",
        "age_group",
        "nationality",
        "country_of_origin",
        "country_of_return",
        "host_country",
        "mode_of_return",
        "length_of_absence",
        "returned_on",
        "return_quarter",
        "days_return_to_plan",
    }
)
MONITORING_TOPIC = "casebridge.case.monitoring.v1"
MAX_MONITORING_RETENTION_MS = 7 * 24 * 3600 * 1000


def test_banded_personal_facts_travel_only_on_the_short_lived_monitoring_topic() -> None:
    carrying = {
        event.topic
        for event in ALL_EVENTS
        for f in _field_names(event, set())
        if f.rsplit(".", 1)[1] in QUASI_IDENTIFIERS
    }
    assert carrying == {MONITORING_TOPIC}
    topics = yaml.safe_load((Path(__file__).parents[4] / "deploy" / "kafka" / "topics.yaml").read_text())["topics"]
    (monitoring,) = [t for t in topics if t["name"] == MONITORING_TOPIC]
    assert 0 < monitoring["retention_ms"] <= MAX_MONITORING_RETENTION_MS

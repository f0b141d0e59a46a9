"""Crypto-shredding reaches Kafka only because events never carry personal data: ids and non-sensitive facts
only (the contract rule of events/contracts). This check fails when a contract grows a field that would."""

import types
from typing import Union, get_args, get_origin

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

import re
from pathlib import Path

import yaml

from casebridge_common.events.asyncapi import render
from casebridge_common.events.contracts import ALL_EVENTS
from casebridge_common.kafka import load_topic_specs

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"


def test_the_asyncapi_document_matches_the_event_contracts() -> None:
    assert (DEPLOY / "asyncapi.yaml").read_text() == render(), (
        "deploy/asyncapi.yaml is stale: python -m casebridge_common.events.asyncapi > deploy/asyncapi.yaml"
    )


def test_every_event_type_is_versioned_and_its_topic_is_declared() -> None:
    declared = {t.name for t in load_topic_specs(DEPLOY / "kafka" / "topics.yaml")}
    for event in ALL_EVENTS:
        assert event.type.startswith("casebridge.")
        assert event.type.rsplit(".", 1)[1].startswith("v")
        assert event.topic in declared


def test_every_schema_reference_resolves() -> None:
    text = (DEPLOY / "asyncapi.yaml").read_text()
    defined = set(yaml.safe_load(text)["components"]["schemas"])
    assert set(re.findall(r"#/components/schemas/(\w+)", text)) <= defined

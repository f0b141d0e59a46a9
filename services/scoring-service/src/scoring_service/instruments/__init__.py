"""The instrument documents shipped with scoring-service (YAML, one file per version), and their loading."""

import hashlib
import json
from importlib import resources

import yaml

from scoring_service.domain.instruments import InstrumentDocument, check_instrument


def checksum(document: InstrumentDocument) -> str:
    canonical = json.dumps(document.model_dump(mode="json", by_alias=True), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def shipped() -> list[InstrumentDocument]:
    """Every shipped version, validated; a broken file fails loudly at start rather than at the first survey."""
    documents = []
    for entry in sorted(resources.files(__name__).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            document = InstrumentDocument.model_validate(yaml.safe_load(entry.read_text(encoding="utf-8")))
            if problems := check_instrument(document):
                raise ValueError(f"{entry.name}: {problems}")
            documents.append(document)
    return documents

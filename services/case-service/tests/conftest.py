from pathlib import Path

import pytest

import case_service.domain.assessments
import case_service.domain.assistance
import case_service.domain.consent
import case_service.domain.documents
import case_service.domain.follow_ups
import case_service.domain.models
import case_service.domain.sharing
import case_service.domain.subject_rights
import case_service.domain.transfers
import case_service.domain.vault  # noqa: F401 - this service's tables, before any database is built


@pytest.fixture(scope="session")
def service_dir() -> Path:
    return Path(__file__).resolve().parents[1]

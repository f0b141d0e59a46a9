from pathlib import Path

import pytest

import notification_service.domain.models  # noqa: F401 - this service's tables, before any database is built
from casebridge_common.auth import Principal


@pytest.fixture(scope="session")
def service_dir() -> Path:
    return Path(__file__).resolve().parents[1]


def principal(client_id: str, office: str | None, organisation: str | None, subject: str | None = None) -> Principal:
    return Principal(
        subject=subject or client_id,
        client_id=client_id,
        organisation_id=organisation,
        office_id=office,
        country=None,
        scopes=frozenset(),
        roles=frozenset(),
    )


@pytest.fixture(scope="session")
def berlin() -> Principal:
    return principal("de-berlin-system", "de-berlin", "iom-germany")


@pytest.fixture(scope="session")
def erbil() -> Principal:
    return principal("iq-erbil-system", "iq-erbil", "iom-iraq")


@pytest.fixture(scope="session")
def cfp() -> Principal:
    """The organisation-bound partner (no office)."""
    return principal("cfp-dakar-partner", None, "cfp-dakar")

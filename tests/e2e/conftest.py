"""End-to-end tests: black-box, through the gateway of the stack `make up` started, with real tokens."""

import os
from collections.abc import Iterator

import httpx
import pytest


@pytest.fixture(scope="session")
def gateway_url() -> str:
    url = os.environ.get("TEST_GATEWAY_URL", "http://127.0.0.1:8080")
    try:
        httpx.get(url + "/healthz", timeout=3).raise_for_status()
    except httpx.HTTPError as exc:
        pytest.fail(f"the gateway at {url} is not answering ({exc!r}); start the stack with `make up`", pytrace=False)
    return url


@pytest.fixture
def api(gateway_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway_url, timeout=10) as client:
        yield client

"""A case opened while Kafka is down is delivered once Kafka is back: the outbox keeps it."""

import subprocess
from pathlib import Path

import httpx
import pytest
from scenario import eventually, inbox_items_for, office_headers, open_return_case

KAFKA = Path(__file__).resolve().parents[2] / "deploy" / "local" / "kafka" / "kafka.sh"


@pytest.mark.disruptive
def test_a_case_opened_during_a_kafka_outage_reaches_the_inbox_after_recovery(
    api: httpx.Client, oidc_issuer: str
) -> None:
    cases = office_headers(oidc_issuer, "de-berlin-system", "case-api")
    inbox = office_headers(oidc_issuer, "de-berlin-system", "notification-api")
    subprocess.run([str(KAFKA), "stop"], check=True)
    try:
        case = open_return_case(api, cases, given_name="Ousmane")  # the API needs PostgreSQL only
        assert inbox_items_for(api, inbox, case["id"]) == []
    finally:
        subprocess.run([str(KAFKA), "start"], check=True)
    items = eventually(
        lambda: [i for i in inbox_items_for(api, inbox, case["id"]) if i["kind"] == "case_opened"],
        timeout_s=180,
        what="the case opened during the outage to reach the inbox",
    )
    assert len(items) == 1

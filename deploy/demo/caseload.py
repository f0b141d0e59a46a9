"""Load a small demo caseload through the gateway, as the Berlin host office (make up runs this).

The cases come from the synthetic generator (`synthetic.py`, fixed seed): a few dozen returnees and
refugees with realistic origins, ages and sexes, so `make up` stays fast. A run against an office that already
has cases loads nothing (a second `make up` reuses the data), and deterministic Idempotency-Keys make an
interrupted first run safe to repeat.
"""

import argparse
import sys

import httpx
from synthetic import BERLIN, Caseload

from casebridge_common.testing.tokens import client_credentials_token, demo_client_secret

DEMO_SEED, DEMO_CASES = 2026, 36


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gateway", default="http://127.0.0.1:8080")
    parser.add_argument("--issuer", default="http://127.0.0.1:9400")
    args = parser.parse_args()
    client_id = "de-berlin-system"
    token = client_credentials_token(
        args.issuer,
        client_id,
        demo_client_secret(client_id),
        resource="urn:casebridge:case-api",
        scope="cases:read cases:write",
    )
    opened = 0
    with httpx.Client(base_url=args.gateway, headers={"Authorization": f"Bearer {token}"}, timeout=10) as api:
        existing = api.get("/v1/cases", params={"limit": 1})
        existing.raise_for_status()
        if existing.json()["items"]:
            sys.stdout.write("demo: the Berlin office already has cases; nothing loaded\n")
            return
        for i, synthetic in enumerate(Caseload(seed=DEMO_SEED).cases(DEMO_CASES, office=BERLIN)):
            beneficiary = api.post(
                "/v1/beneficiaries",
                # distinct synthetic people whose names can still look alike: skip the duplicate check
                json={**synthetic.beneficiary_body(), "confirm_not_duplicate": True},
                headers={"Idempotency-Key": f"demo-beneficiary-{i:04d}"},
            )
            beneficiary.raise_for_status()
            case = api.post(
                "/v1/cases",
                json={
                    "beneficiary_id": beneficiary.json()["id"],
                    "programme": synthetic.programme,
                    "assigned_worker": synthetic.assigned_worker,
                },
                headers={"Idempotency-Key": f"demo-case-{i:04d}"},
            )
            case.raise_for_status()
            opened += case.headers.get("Idempotent-Replayed") != "true"
    sys.stdout.write(f"demo: {DEMO_CASES} Berlin cases present ({opened} opened now)\n")


if __name__ == "__main__":
    main()

"""Load a small demo caseload through the gateway, as the Berlin host office (make up runs this).

A run against an office that already has cases loads nothing (a second `make up` reuses the data), and
deterministic Idempotency-Keys make an interrupted first run safe to repeat.
"""

import argparse
import sys

import httpx

from casebridge_common.testing.tokens import client_credentials_token, demo_client_secret

RETURNEES = [
    ("Awa", "Ndiaye", "female", "1994-03-17", "SN", "return_reintegration"),
    ("Mamadou", "Sow", "male", "1988-11-02", "SN", "return_reintegration"),
    ("Ibrahima", "Fall", "male", "2001-06-21", "SN", "return_reintegration"),
    ("Hawa", "Diallo", "female", "1979-01-09", "SN", "return_reintegration"),
    ("Nasrin", "Ahmadi", "female", "1990-07-30", "AF", "resettlement_integration"),
]


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
        for i, (given, family, sex, born_on, nationality, programme) in enumerate(RETURNEES):
            beneficiary = api.post(
                "/v1/beneficiaries",
                json={
                    "given_name": given,
                    "family_name": family,
                    "sex": sex,
                    "born_on": born_on,
                    "nationality": nationality,
                },
                headers={"Idempotency-Key": f"demo-beneficiary-{i:04d}"},
            )
            beneficiary.raise_for_status()
            case = api.post(
                "/v1/cases",
                json={
                    "beneficiary_id": beneficiary.json()["id"],
                    "programme": programme,
                    "assigned_worker": "anna.schmidt",
                },
                headers={"Idempotency-Key": f"demo-case-{i:04d}"},
            )
            case.raise_for_status()
            opened += case.headers.get("Idempotent-Replayed") != "true"
    sys.stdout.write(f"demo: {len(RETURNEES)} Berlin cases present ({opened} opened now)\n")


if __name__ == "__main__":
    main()

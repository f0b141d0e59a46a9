"""Consent-withdrawal propagation time against the running stack (target: p99 under 2 s locally).

Each round registers a returnee through the gateway, gives a consent, then withdraws it, and polls
case-service's database until every holder (referral-, scoring- and notification-service) has acknowledged the
withdrawal: the time from sending the withdrawal request to the last receipt. Beside it, the baseline measured
in this run: a plain Kafka produce → consume round trip on a private topic (created, then deleted); propagation
is at least two such trips (the withdrawal out, the receipts back) plus three outbox relays and transactions.
The beneficiaries are registered by de-berlin with the family name `Bench`. Bounded: ROUNDS rounds, each given
up after TIMEOUT_S.
Env: BENCH_GATEWAY_URL (http://127.0.0.1:8080), BENCH_OIDC_ISSUER (http://127.0.0.1:9400),
BENCH_KAFKA_BOOTSTRAP (127.0.0.1:19092), BENCH_DATABASE_URL (postgresql://postgres@127.0.0.1:55432/case_service).
"""

import asyncio
import logging
import os
import statistics
import time
import uuid

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from casebridge_common.testing.plugin import RESOURCES, bearer
from casebridge_common.testing.tokens import client_credentials_token, demo_client_secret

GATEWAY = os.environ.get("BENCH_GATEWAY_URL", "http://127.0.0.1:8080")
ISSUER = os.environ.get("BENCH_OIDC_ISSUER", "http://127.0.0.1:9400")
BOOTSTRAP = os.environ.get("BENCH_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:55432/case_service")
HOLDERS = 3
ROUNDS = 40
TIMEOUT_S = 15.0
POLL_S = 0.002
CLIENT = "de-berlin-system"
SCOPE = "cases:read cases:write consents:write"


def p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, round(q * (len(values) - 1)))] * 1000


def line(name: str, samples: list[float]) -> str:
    return (
        f"{name:<52} n={len(samples):>4}  p50 {p(samples, 0.5):7.1f} ms  p99 {p(samples, 0.99):7.1f} ms  "
        f"mean {statistics.fmean(samples) * 1000:7.1f} ms"
    )


async def baseline() -> list[float]:
    topic = f"bench.withdrawal-baseline.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, enable_idempotence=True, acks="all", linger_ms=0)
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=BOOTSTRAP, auto_offset_reset="earliest", fetch_max_wait_ms=5)
    await producer.start()
    await consumer.start()
    try:
        await consumer.getmany(timeout_ms=1000)  # joined and assigned before the clock starts
        samples = []
        for _ in range(ROUNDS):
            start = time.perf_counter()
            await producer.send_and_wait(topic, value=b"{}")
            async with asyncio.timeout(TIMEOUT_S):
                await consumer.getone()
            samples.append(time.perf_counter() - start)
        return samples
    finally:
        await consumer.stop()
        await producer.stop()
        await admin.delete_topics([topic])
        await admin.close()


RETURNEE = {
    "given_name": "Awa",
    "family_name": "Bench",
    "sex": "female",
    "born_on": "1990-05-01",
    "nationality": "SN",
    "confirm_not_duplicate": True,
}


async def consented_beneficiary(api: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, object]:
    beneficiary = await api.post("/v1/beneficiaries", headers=headers, json=RETURNEE)
    beneficiary.raise_for_status()
    case = await api.post(
        "/v1/cases",
        headers=headers,
        json={"beneficiary_id": beneficiary.json()["id"], "programme": "return_reintegration"},
    )
    case.raise_for_status()
    consent = await api.post(
        f"/v1/beneficiaries/{beneficiary.json()['id']}/consents",
        headers=headers | {"Idempotency-Key": str(uuid.uuid4())},
        json={
            "given_by": "self",
            "method": "written",
            "notice_version": "bench-notice-1",
            "scopes": [
                {
                    "data_categories": ["identity_biodata", "contact", "skills_employment"],
                    "purposes": ["referral_service_delivery"],
                    "organisations": ["cfp-dakar"],
                }
            ],
        },
    )
    consent.raise_for_status()
    return dict(consent.json())


async def propagation(db: asyncpg.Connection) -> tuple[list[float], int]:
    secret = demo_client_secret(CLIENT)
    headers = bearer(client_credentials_token(ISSUER, CLIENT, secret, resource=RESOURCES["case-api"], scope=SCOPE))
    samples, lost = [], 0
    async with httpx.AsyncClient(base_url=GATEWAY, timeout=10) as api:
        for _ in range(ROUNDS):
            consent = await consented_beneficiary(api, headers)
            start = time.perf_counter()
            withdrawn = await api.post(
                f"/v1/consents/{consent['id']}/withdrawal",
                headers=headers | {"If-Match": f'"{consent["version"]}"'},
                json={"channel": "phone"},
            )
            withdrawn.raise_for_status()
            query = (
                "SELECT count(*) FROM withdrawal_acknowledgements a JOIN consent_withdrawals w"
                " ON w.id = a.withdrawal_id WHERE w.consent_id = $1"
            )
            while await db.fetchval(query, uuid.UUID(str(consent["id"]))) < HOLDERS:
                if time.perf_counter() - start > TIMEOUT_S:
                    lost += 1
                    break
                await asyncio.sleep(POLL_S)
            else:
                samples.append(time.perf_counter() - start)
    return samples, lost


async def main() -> None:
    logging.getLogger("aiokafka.cluster").setLevel(logging.CRITICAL)  # "topic not found" while the new topic spreads
    base = await baseline()
    db = await asyncpg.connect(DATABASE_URL)
    try:
        measured, lost = await propagation(db)
    finally:
        await db.close()
    print(line("baseline: Kafka produce → consume", base))
    if measured:
        print(line(f"withdrawal → receipts from all {HOLDERS} holders", measured))
    met = bool(measured) and lost == 0 and p(measured, 0.99) < 2000
    verdict = "met" if met else "NOT met"
    print(f"not acknowledged within {TIMEOUT_S:.0f} s: {lost} of {ROUNDS}; target p99 < 2000 ms: {verdict}")


if __name__ == "__main__":
    asyncio.run(main())

"""The pseudonymous monitoring feed on real Kafka: case-service publishes a case's banded facts for M&E only
while the beneficiary's consent covers them, and a withdrawal publishes them withdrawn; the opening itself
publishes no profile (its first waits for the weekly publication)."""

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from scenario import give_consent, office_headers, open_return_case

MONITORING_TOPIC = "casebridge.case.monitoring.v1"
M_AND_E_CONSENT = [{"data_categories": ["identity_biodata"], "purposes": ["m_and_e"], "organisations": ["iom-germany"]}]

Profiles = list[dict[str, Any]]


class Feed:
    """Every monitoring profile of one case published since the reader started, oldest first."""

    def __init__(self, kafka_bootstrap: str) -> None:
        self._bootstrap = kafka_bootstrap
        self._consumer: AIOKafkaConsumer | None = None
        self.raw: list[bytes] = []
        self.case_id: str | None = None

    async def start(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap)
        await admin.start()
        try:
            (description,) = await admin.describe_topics([MONITORING_TOPIC])
        finally:
            await admin.close()
        partitions = [TopicPartition(MONITORING_TOPIC, int(p["partition"])) for p in description["partitions"]]
        assert partitions, f"{MONITORING_TOPIC} has no partitions: were the topics created?"
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, group_id=f"e2e-{uuid.uuid4().hex[:8]}", enable_auto_commit=False
        )
        await self._consumer.start()
        self._consumer.assign(partitions)
        await self._consumer.seek_to_end(*partitions)
        for partition in partitions:
            await self._consumer.position(partition)  # resolve "end" before anything is published

    async def until(self, done: Callable[[Profiles], bool], what: str) -> Profiles:
        assert self._consumer is not None
        assert self.case_id is not None
        key = self.case_id.encode()
        try:
            async with asyncio.timeout(60):
                while not done(self.profiles()):
                    for records in (await self._consumer.getmany(timeout_ms=500)).values():
                        self.raw += [r.value for r in records if r.key == key and r.value is not None]
        except TimeoutError as exc:
            raise AssertionError(f"timed out waiting for {what}: {self.profiles()}") from exc
        return self.profiles()

    def profiles(self) -> Profiles:
        return [json.loads(value)["data"] for value in self.raw]

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()


def _latest(profiles: Profiles) -> dict[str, Any]:
    return max(profiles, key=lambda p: p["profile_version"])


async def _scenario(api: httpx.Client, oidc_issuer: str, kafka_bootstrap: str) -> Feed:
    berlin = office_headers(oidc_issuer, "de-berlin-system", "case-api")
    feed = Feed(kafka_bootstrap)
    await feed.start()
    try:
        case = await asyncio.to_thread(open_return_case, api, berlin, given_name="Lamine")
        feed.case_id = case["id"]
        consent = await asyncio.to_thread(give_consent, api, berlin, case["beneficiary_id"], M_AND_E_CONSENT)
        consented = await feed.until(lambda ps: any(p["sex"] is not None for p in ps), "the consented profile")
        # the case's first profile: the opening published none (it waits for the weekly publication)
        [latest] = consented
        assert (latest["sex"], latest["age_group"], latest["beneficiary_id"]) == (
            "male",
            "35-49",  # born 1988-11-02: the band at opening, never the date
            case["beneficiary_id"],
        )

        withdrawn = await asyncio.to_thread(
            api.post,
            f"/v1/consents/{consent['id']}/withdrawal",
            headers=berlin | {"If-Match": f'"{consent["version"]}"'},
            json={"channel": "staff"},
        )
        assert withdrawn.status_code == 200, withdrawn.text
        after = await feed.until(
            lambda ps: len(ps) > len(consented) and _latest(ps)["sex"] is None, "the withdrawn profile"
        )
        assert (_latest(after)["sex"], _latest(after)["age_group"]) == (None, None)
        return feed
    finally:
        await feed.stop()


def test_the_monitoring_feed_carries_banded_facts_only_while_consent_covers_them(
    api: httpx.Client, oidc_issuer: str, kafka_bootstrap: str
) -> None:
    feed = asyncio.run(_scenario(api, oidc_issuer, kafka_bootstrap))
    published = b"".join(feed.raw).decode()
    assert "Lamine" not in published  # names and birth dates never travel
    assert "1988-11-02" not in published

"""Mobile delta sync on real PostgreSQL with real tokens: snapshot then changes, tombstones when a case goes out
of sight, projection parity with the normal reads, and the batch push with conflicts and idempotent re-push.

The module has its own database, so a first sync's snapshot holds only the cases these tests open.
"""

import base64
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel import col

from case_service.domain.consent import ConsentMethod, ConsentRecord
from case_service.domain.sharing import BreakGlassGrant, CaseShare
from case_service.domain.sync import SyncChange
from case_service.main import create_app
from case_service.settings import Settings
from casebridge_common.access import ConsentStatus, DataCategory, GivenBy, Purpose
from casebridge_common.outbox import OutboxMessage
from casebridge_common.testing.plugin import DatabaseFactory, TokenFor, bearer

ALL = "cases:read cases:write cases.sensitive:read consents:write"
OWNER, SHAREE, STRANGER = "de-berlin-system", "sn-dakar-system", "iq-erbil-system"
PERSON = {
    "given_name": "Awa",
    "family_name": "Ndiaye",
    "sex": "female",
    "born_on": "1994-03-17",
    "nationality": "SN",
    "confirm_not_duplicate": True,
}
SCREENING = {
    "kind": "vulnerability_screening",
    "assessment_type": "rapid_vulnerability_assessment",
    "phase": "pre_departure",
    "categories": ["health_needs"],
}
NEEDS = {"kind": "needs", "economic": "Needs start-up capital for a tailoring shop"}
Json = dict[str, Any]
SINCE = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
async def sync_db_url(databases: DatabaseFactory) -> str:
    return await databases.create()


@pytest.fixture(scope="module")
async def api(sync_db_url: str, oidc_issuer: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url=sync_db_url, oidc_issuer=oidc_issuer, environment="test")
    async with LifespanManager(create_app(settings)) as manager:
        transport = httpx.ASGITransport(manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://case-service") as client:
            yield client


class Caller:
    """One demo client's view of the API, with its sync cursor."""

    def __init__(self, api: httpx.AsyncClient, token: TokenFor, client_id: str) -> None:
        self.api, self.headers = api, bearer(token(client_id, "case-api", ALL))
        self.cursor: str | None = None

    async def sync(self, *, limit: int = 200) -> list[Json]:
        """Everything up to now (pages until `has_more` is false); keeps the last cursor."""
        items: list[Json] = []
        while True:
            params: dict[str, str | int] = {"limit": limit} | ({"cursor": self.cursor} if self.cursor else {})
            response = await self.api.get("/v1/sync/changes", params=params, headers=self.headers)
            assert response.status_code == 200, response.text
            page = response.json()
            items.extend(page["items"])
            self.cursor = page["next_cursor"]
            if not page["has_more"]:
                return items

    async def get(self, path: str) -> Json:
        response = await self.api.get(path, headers=self.headers)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def post(self, path: str, body: Json, status: int = 201) -> Json:
        response = await self.api.post(path, json=body, headers=self.headers)
        assert response.status_code == status, response.text
        return dict(response.json())

    async def push(self, *items: Json) -> list[Json]:
        response = await self.api.post("/v1/sync/push", json={"items": list(items)}, headers=self.headers)
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    async def open_case(self) -> Json:
        person = PERSON | {"given_name": f"Awa {uuid.uuid4().hex[:8]}"}  # not a likely duplicate of another
        beneficiary = await self.post("/v1/beneficiaries", person)
        case = await self.post("/v1/cases", {"beneficiary_id": beneficiary["id"], "programme": "return_reintegration"})
        await self.post(f"/v1/cases/{case['id']}/assessments", SCREENING)
        await self.post(f"/v1/cases/{case['id']}/notes", {"body": "Visited the workshop"})
        return case


@pytest.fixture
def caller(api: httpx.AsyncClient, token: TokenFor) -> Any:
    return lambda client_id=OWNER: Caller(api, token, client_id)


def of_case(items: list[Json], case_id: str) -> list[Json]:
    return [i for i in items if i["case_id"] == case_id]


def kinds(items: list[Json]) -> list[tuple[str, str]]:
    return sorted((i["entity_type"], i["op"]) for i in items)


async def give_consent(
    db_url: str, beneficiary_id: str, categories: list[DataCategory], organisations: tuple[str, ...] = ()
) -> uuid.UUID:
    """A consent in force naming sn-dakar (and `organisations`) for `categories` (case management)."""
    engine = create_async_engine(db_url, poolclass=NullPool)
    consent_id = uuid.uuid4()
    async with async_sessionmaker(engine)() as session, session.begin():
        session.add(
            ConsentRecord(
                id=consent_id,
                beneficiary_id=uuid.UUID(beneficiary_id),
                status=ConsentStatus.GIVEN,
                given_by=GivenBy.SELF,
                method=ConsentMethod.WRITTEN,
                notice_version="test-notice-1",
                scopes=[
                    {
                        "data_categories": [str(c) for c in categories],
                        "purposes": [str(Purpose.CASE_MANAGEMENT)],
                        "offices": ["sn-dakar"],
                        "organisations": list(organisations),
                        "organisation_types": [],
                        "countries": [],
                    }
                ],
                valid_from=SINCE,
                recorded_by="test",
                recorded_by_office_id="de-berlin",
                recorded_at=SINCE,
            )
        )
    await engine.dispose()
    return consent_id


async def test_a_first_sync_is_a_snapshot_in_pages_and_then_only_what_changed(caller: Any) -> None:
    owner = caller()
    first, second = await owner.open_case(), await owner.open_case()
    snapshot = await owner.sync(limit=1)  # one case per page: the pages join up
    for case in (first, second):
        assert kinds(of_case(snapshot, case["id"])) == [
            ("assessment", "upsert"),
            ("case", "upsert"),
            ("note", "upsert"),
        ]
    assert all(i["seq"] is None for i in snapshot)
    assert await owner.sync() == []  # caught up: nothing new

    note = await owner.post(f"/v1/cases/{first['id']}/notes", {"body": "Shop opened"})
    assessment = await owner.post(f"/v1/cases/{second['id']}/assessments", NEEDS)
    delta = await owner.sync()
    assert [(i["entity_type"], i["entity_id"]) for i in delta] == [
        ("note", note["id"]),
        ("assessment", assessment["id"]),
    ]
    assert delta[0]["note"]["body"] == "Shop opened"
    assert delta[0]["seq"] < delta[1]["seq"]
    assert delta[1]["assessment"]["data"]["economic"].startswith("Needs start-up")
    assert await owner.sync() == []


async def test_a_sharee_sees_what_the_normal_reads_show_and_a_tombstone_once_the_share_is_revoked(
    caller: Any, sync_db_url: str
) -> None:
    owner, dakar, erbil = caller(), caller(SHAREE), caller(STRANGER)
    case = await owner.open_case()
    await give_consent(sync_db_url, case["beneficiary_id"], [DataCategory.IDENTITY_BIODATA])
    await dakar.sync()
    await erbil.sync()
    share = await owner.post(f"/v1/cases/{case['id']}/shares", {"office_id": "sn-dakar", "mode": "view"})

    shared = of_case(await dakar.sync(), case["id"])  # a change of access: the whole file, as dakar may see it
    assert kinds(shared) == [("assessment", "upsert"), ("case", "upsert"), ("note", "upsert")]
    by_type = {i["entity_type"]: i for i in shared}
    assert by_type["case"]["case"] == await dakar.get(f"/v1/cases/{case['id']}")
    assert by_type["case"]["case"]["vulnerability_categories"] is None  # withheld, as in the normal read
    notes = await dakar.get(f"/v1/cases/{case['id']}/notes")
    assert by_type["note"]["note"] == notes["items"][0]
    assert notes["items"][0]["body"] is None
    history = await dakar.get(f"/v1/cases/{case['id']}/assessments")
    assert by_type["assessment"]["assessment"] == history["items"][0]
    assert by_type["assessment"]["assessment"]["data"] is None

    revoked = await owner.api.delete(f"/v1/cases/{case['id']}/shares/{share['id']}", headers=owner.headers)
    assert revoked.status_code in (200, 204), revoked.text
    gone = of_case(await dakar.sync(), case["id"])
    assert [(i["entity_type"], i["op"], i["reason"], i["case"]) for i in gone] == [
        ("case", "delete", "no_longer_visible", None)
    ]
    assert (await dakar.api.get(f"/v1/cases/{case['id']}", headers=dakar.headers)).status_code == 404
    await owner.post(f"/v1/cases/{case['id']}/notes", {"body": "After the revocation"})
    assert of_case(await dakar.sync(), case["id"])[0]["reason"] == "no_longer_visible"
    assert of_case(await erbil.sync(), case["id"]) == []  # never related: not even a tombstone


async def test_withdrawing_the_consent_a_share_rests_on_sends_the_sharee_a_tombstone(
    caller: Any, sync_db_url: str
) -> None:
    owner, dakar = caller(), caller(SHAREE)
    case = await owner.open_case()
    consent_id = await give_consent(sync_db_url, case["beneficiary_id"], [DataCategory.IDENTITY_BIODATA])
    await owner.post(f"/v1/cases/{case['id']}/shares", {"office_id": "sn-dakar", "mode": "view"})
    assert ("case", "upsert") in kinds(of_case(await dakar.sync(), case["id"]))
    withdrawn = await owner.api.post(
        f"/v1/consents/{consent_id}/withdrawal", json={"channel": "phone"}, headers=owner.headers | {"If-Match": '"1"'}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    gone = of_case(await dakar.sync(), case["id"])
    assert [(i["entity_type"], i["op"], i["reason"]) for i in gone] == [("case", "delete", "no_longer_visible")]
    assert (await dakar.api.get(f"/v1/cases/{case['id']}", headers=dakar.headers)).status_code == 404


async def test_a_referral_destination_gets_the_case_while_the_referral_is_open_and_a_tombstone_after(
    caller: Any, sync_db_url: str
) -> None:
    from case_service.consumers import HANDLERS
    from case_service.unit_of_work import CaseUnitOfWork
    from casebridge_common.events.contracts.referral import ReferralCompleted, ReferralSent
    from casebridge_common.events.envelope import CloudEvent

    owner, dakar = caller(), caller(SHAREE)
    case = await owner.open_case()
    await give_consent(sync_db_url, case["beneficiary_id"], [DataCategory.IDENTITY_BIODATA], ("iom-senegal",))
    await dakar.sync()
    referral = {
        "referral_id": str(uuid.uuid4()),
        "case_id": case["id"],
        "referring_office_id": "de-berlin",
        "destination_organisation_id": "iom-senegal",
        "destination_office_id": None,
        "destination_service_id": None,
    }
    documented: Any = ReferralSent.model_config["json_schema_extra"]
    sent = ReferralSent.model_validate(documented["examples"][0] | referral | {"referral_version": 1})
    engine = create_async_engine(sync_db_url, poolclass=NullPool)
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def deliver(event: CloudEvent) -> None:
        await HANDLERS[event.type](event, CaseUnitOfWork(sessions))

    await deliver(CloudEvent.wrap(sent, source="/casebridge/referral-service"))
    opened = of_case(await dakar.sync(), case["id"])
    assert ("case", "upsert") in kinds(opened)
    await deliver(
        CloudEvent.wrap(ReferralCompleted(**referral, referral_version=2, service_delivered="yes"), source="/rs")
    )
    await engine.dispose()
    closed = of_case(await dakar.sync(), case["id"])
    assert [(i["entity_type"], i["reason"]) for i in closed] == [("case", "no_longer_visible")]


async def test_a_share_or_a_break_glass_grant_that_runs_out_sends_a_tombstone_though_nothing_is_written(
    caller: Any, sync_db_url: str
) -> None:
    owner, dakar, erbil = caller(), caller(SHAREE), caller(STRANGER)
    case = await owner.open_case()
    await give_consent(sync_db_url, case["beneficiary_id"], [DataCategory.IDENTITY_BIODATA])
    await owner.post(
        f"/v1/cases/{case['id']}/shares",
        {"office_id": "sn-dakar", "mode": "view", "expires_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()},
    )
    justification = {"justification": "Returnee collapsed at our office; need the vulnerability screening now"}
    await erbil.post(f"/v1/cases/{case['id']}/break-glass", justification)
    for device in (owner, dakar, erbil):
        assert ("case", "upsert") in kinds(of_case(await device.sync(), case["id"]))

    engine = create_async_engine(sync_db_url, poolclass=NullPool)
    async with async_sessionmaker(engine)() as session, session.begin():  # time passes: nothing is journalled
        journalled = await session.scalar(select(func.count()).select_from(SyncChange))
        lapsed = datetime.now(UTC)  # after the devices last synced, before they sync again
        case_id = uuid.UUID(case["id"])
        await session.execute(update(CaseShare).where(col(CaseShare.case_id) == case_id).values(expires_at=lapsed))
        await session.execute(
            update(BreakGlassGrant).where(col(BreakGlassGrant.case_id) == case_id).values(expires_at=lapsed)
        )
    for device in (dakar, erbil):
        gone = of_case(await device.sync(), case["id"])
        assert [(i["entity_type"], i["op"], i["reason"]) for i in gone] == [("case", "delete", "no_longer_visible")]
        assert (await device.api.get(f"/v1/cases/{case['id']}", headers=device.headers)).status_code == 404
        assert of_case(await device.sync(), case["id"]) == []  # reported once: the next page starts after it
    async with async_sessionmaker(engine)() as session:
        assert await session.scalar(select(func.count()).select_from(SyncChange)) == journalled
    await engine.dispose()
    assert of_case(await owner.sync(), case["id"]) == []  # the owner still sees it and nothing changed


async def test_a_pushed_delivery_or_closure_applies_on_the_items_version_and_conflicts_after_it_moved_on(
    caller: Any, sync_db_url: str
) -> None:
    owner, dakar = caller(), caller(SHAREE)
    case = await owner.open_case()
    cash = {
        "assistance_type": "income_generating_activity",
        "modality": "cash",
        "amount": "300000",
        "currency": "XOF",
        "tranches": [{"amount": "100000", "due_on": "2027-01-15"}, {"amount": "200000", "due_on": "2027-04-15"}],
    }
    item = await owner.post(f"/v1/cases/{case['id']}/assistance", cash)
    assert item["version"] == 1
    edit = {"op": "record_delivery", "case_id": case["id"], "assistance_item_id": item["id"]}
    first, stale, unknown = (str(uuid.uuid4()) for _ in range(3))
    delivered, conflict, missing = await owner.push(
        edit | {"client_id": first, "base_version": 1, "delivery": {"tranche_number": 1, "delivered_on": "2026-11-16"}},
        edit | {"client_id": stale, "base_version": 1, "delivery": {"tranche_number": 2, "delivered_on": "2026-11-18"}},
        edit
        | {
            "client_id": unknown,
            "assistance_item_id": str(uuid.uuid4()),
            "base_version": 1,
            "delivery": {"tranche_number": 1, "delivered_on": "2026-11-16"},
        },
    )
    assert (delivered["outcome"], delivered["version"]) == ("applied", 2)
    assert delivered["assistance"]["tranches"][0]["delivered_on"] == "2026-11-16"
    listed = await owner.get(f"/v1/cases/{case['id']}/assistance")
    assert delivered["assistance"] == listed["items"][0]
    assert (conflict["outcome"], conflict["current_version"]) == ("conflict", 2)
    assert conflict["assistance"] == listed["items"][0]  # the server copy; the second tranche stays undelivered
    assert conflict["assistance"]["tranches"][1]["delivered_on"] is None
    assert (missing["outcome"], missing["problem"]["code"]) == ("rejected", "assistance-not-found")
    (replayed,) = await owner.push(
        edit | {"client_id": first, "base_version": 1, "delivery": {"tranche_number": 1, "delivered_on": "2026-11-16"}}
    )
    assert (replayed["outcome"], replayed["replayed"], replayed["version"]) == ("applied", True, 2)
    ahead = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()
    (future,) = await owner.push(
        edit
        | {
            "client_id": str(uuid.uuid4()),
            "base_version": 2,
            "delivery": {"tranche_number": 2, "delivered_on": ahead},
        }
    )
    assert (future["outcome"], future["problem"]["code"]) == ("rejected", "date-in-future")

    closure = {"op": "close_assistance", "case_id": case["id"], "assistance_item_id": item["id"]}
    reason = {"status": "unmet_need", "reason": "The market closed"}
    old, fresh = await owner.push(
        closure | {"client_id": str(uuid.uuid4()), "base_version": 1, "closure": reason},
        closure | {"client_id": str(uuid.uuid4()), "base_version": 2, "closure": reason},
    )
    assert (old["outcome"], old["current_version"]) == ("conflict", 2)
    assert (fresh["outcome"], fresh["version"], fresh["assistance"]["status"]) == ("applied", 3, "unmet_need")
    (after_close,) = await owner.push(
        edit
        | {
            "client_id": str(uuid.uuid4()),
            "base_version": 3,
            "delivery": {"tranche_number": 2, "delivered_on": "2026-11-18"},
        }
    )
    assert (after_close["outcome"], after_close["problem"]["code"]) == ("rejected", "assistance-closed")
    (foreign,) = await dakar.push(closure | {"client_id": str(uuid.uuid4()), "base_version": 3, "closure": reason})
    assert (foreign["outcome"], foreign["problem"]["code"]) == ("rejected", "case-not-found")

    engine = create_async_engine(sync_db_url, poolclass=NullPool)
    async with async_sessionmaker(engine)() as session:
        types = (
            await session.scalars(
                select(OutboxMessage.event["type"].astext).where(
                    OutboxMessage.key == case["id"],
                    OutboxMessage.event["type"].astext == "casebridge.case.assistance_delivered.v1",
                )
            )
        ).all()
    await engine.dispose()
    assert len(types) == 1  # the applied delivery only, once


async def test_pushed_edits_apply_conflict_or_are_rejected_each_on_their_own_and_replay_once(
    caller: Any, sync_db_url: str
) -> None:
    owner, erbil = caller(), caller(STRANGER)
    case = await owner.open_case()
    latest = await owner.get(f"/v1/cases/{case['id']}")
    note_id, needs_id, stale_id, stage_id, foreign_id = (str(uuid.uuid4()) for _ in range(5))
    edits = [
        {"client_id": note_id, "op": "add_note", "case_id": case["id"], "note": {"body": "Written offline"}},
        {
            "client_id": needs_id,
            "op": "record_assessment",
            "case_id": case["id"],
            "base_version": None,
            "assessment": NEEDS,
        },
        {  # the device saw no screening, but one was recorded: conflict
            "client_id": stale_id,
            "op": "record_assessment",
            "case_id": case["id"],
            "base_version": None,
            "assessment": SCREENING,
        },
        {  # the device saw version 1; the screening moved the case on
            "client_id": stage_id,
            "op": "change_stage",
            "case_id": case["id"],
            "base_version": 1,
            "change": {"to_stage": "withdrawn"},
        },
        {"client_id": foreign_id, "op": "add_note", "case_id": str(uuid.uuid4()), "note": {"body": "Lost"}},
    ]
    results = await owner.push(*edits)
    assert [(r["client_id"], r["outcome"]) for r in results] == [
        (note_id, "applied"),
        (needs_id, "applied"),
        (stale_id, "conflict"),
        (stage_id, "conflict"),
        (foreign_id, "rejected"),
    ]
    note, needs, stale, stage, foreign = results
    assert note["note"]["body"] == "Written offline"
    assert (needs["version"], needs["assessment"]["kind"]) == (1, "needs")
    assert (stale["current_version"], stale["assessment"]["kind"]) == (1, "vulnerability_screening")
    assert stage["current_version"] == latest["version"]
    assert stage["case"] == latest
    assert (foreign["problem"]["status"], foreign["problem"]["code"]) == (404, "case-not-found")

    again = await owner.push(*edits[:2])  # the device never got the answer: same client ids
    assert [(r["outcome"], r["replayed"]) for r in again] == [("applied", True), ("applied", True)]
    assert again[0]["note"] == note["note"]
    notes = await owner.get(f"/v1/cases/{case['id']}/notes")
    assert [n["body"] for n in notes["items"]].count("Written offline") == 1
    assessments = await owner.get(f"/v1/cases/{case['id']}/assessments?kind=needs")
    assert len(assessments["items"]) == 1

    reused = await owner.push(edits[0] | {"note": {"body": "Another edit"}})
    assert (reused[0]["outcome"], reused[0]["problem"]["code"]) == ("rejected", "idempotency-key-reused")

    update = {"op": "update_case", "case_id": case["id"], "fields": {"assigned_worker": "moussa.diop"}}
    stale_update, fresh_update = await owner.push(
        update | {"client_id": str(uuid.uuid4()), "base_version": 1},
        update | {"client_id": str(uuid.uuid4()), "base_version": latest["version"]},
    )
    assert (stale_update["outcome"], stale_update["current_version"]) == ("conflict", latest["version"])
    assert stale_update["case"]["assigned_worker"] is None  # the server copy: never overwritten
    assert (fresh_update["outcome"], fresh_update["version"]) == ("applied", latest["version"] + 1)
    assert fresh_update["case"] == await owner.get(f"/v1/cases/{case['id']}")
    latest = fresh_update["case"]

    resolved = await owner.push(edits[3] | {"client_id": str(uuid.uuid4()), "base_version": latest["version"]})
    assert (resolved[0]["outcome"], resolved[0]["version"]) == ("applied", latest["version"] + 1)
    assert resolved[0]["case"]["stage"] == "withdrawn"
    closed = await owner.push(edits[1] | {"client_id": str(uuid.uuid4()), "base_version": 1})
    assert (closed[0]["outcome"], closed[0]["problem"]["code"]) == ("rejected", "case-not-active")

    denied = await erbil.push(edits[0] | {"client_id": str(uuid.uuid4())})
    assert (denied[0]["outcome"], denied[0]["problem"]["code"]) == ("rejected", "case-not-found")

    engine = create_async_engine(sync_db_url, poolclass=NullPool)
    async with async_sessionmaker(engine)() as session:
        types = (
            await session.scalars(
                select(OutboxMessage.event["type"].astext)
                .where(OutboxMessage.key == case["id"])
                .order_by(col(OutboxMessage.seq))
            )
        ).all()
    await engine.dispose()
    assert types.count("casebridge.case.assessment_recorded.v1") == 2  # the screening and the pushed needs only
    assert types.count("casebridge.case.stage_changed.v1") == 1


async def test_a_malformed_or_foreign_cursor_and_a_malformed_batch_are_refused(caller: Any) -> None:
    owner, dakar = caller(), caller(SHAREE)
    await owner.sync()
    await dakar.sync()
    assert dakar.cursor is not None
    issued = json.loads(base64.urlsafe_b64decode(dakar.cursor + "=" * (-len(dakar.cursor) % 4)))
    since = issued["a"][2]
    forged = [
        base64.urlsafe_b64encode(json.dumps({"a": position, "q": issued["q"]}).encode()).decode()
        for position in (
            ["rewind", 1],
            ["changes", 2**63, since],  # past the journal's bigint
            ["changes", True, since],
            ["changes", 1, "0001-01-01T00:00:00+14:00"],
        )
    ]
    for cursor in ("not-a-cursor!", "", *forged):
        response = await dakar.api.get("/v1/sync/changes", params={"cursor": cursor}, headers=dakar.headers)
        assert (response.status_code, response.json()["code"]) == (400, "invalid-cursor"), cursor
    foreign = await dakar.api.get("/v1/sync/changes", params={"cursor": owner.cursor}, headers=dakar.headers)
    assert (foreign.status_code, foreign.json()["code"]) == (400, "invalid-cursor")
    assert foreign.headers["content-type"] == "application/problem+json"

    edit = {"client_id": str(uuid.uuid4()), "op": "add_note", "case_id": str(uuid.uuid4()), "note": {"body": "x"}}
    bodies: list[Json] = [
        {"items": []},
        {"items": [edit] * 2},
        {"items": [edit | {"op": "teleport"}]},
        {"items": [edit] * 101},
    ]
    for body in bodies:
        response = await owner.api.post("/v1/sync/push", json=body, headers=owner.headers)
        assert (response.status_code, response.json()["code"]) == (422, "validation-error")


async def test_the_journal_hook_is_registered_once_not_on_every_unit_of_works_session(sync_db_url: str) -> None:
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from case_service.repositories.sync import JOURNALLED, _journal_flush, _journal_referral_link
    from case_service.unit_of_work import CaseUnitOfWork

    engine = create_async_engine(sync_db_url, poolclass=NullPool)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    for _ in range(3):
        async with CaseUnitOfWork(sessions) as uow:
            own = uow.session.sync_session.dispatch
            assert (list(own.before_flush.listeners), list(own.do_orm_execute.listeners)) == ([], [])
            assert uow.session.info[JOURNALLED] is True
    async with sessions() as plain:
        assert JOURNALLED not in plain.info  # a session outside a unit of work journals nothing
    await engine.dispose()
    assert event.contains(Session, "before_flush", _journal_flush)
    assert event.contains(Session, "do_orm_execute", _journal_referral_link)

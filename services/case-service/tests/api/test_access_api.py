"""Access to case files across offices, on real PostgreSQL with real tokens from the local IdP.

* The matrix: office by data category by consent state (none, given, narrowed, expired, withdrawn), for single
  reads and lists. The owner always sees its case file; a share holder sees a category only while a consent in
  force names it; an unrelated office never learns the case exists.
* Cross-office attacks: every endpoint taking a case id, called with another office's case, is the same 404 as
  for an unknown id (body, headers, list contents).
* Shares and their revocation, referral links fed by the consumer, break-glass, the disclosure preview, and
  writes through an `edit` share.
"""

import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from case_service.domain.consent import ConsentMethod, ConsentRecord
from case_service.domain.sharing import CaseShare
from casebridge_common.access import ConsentStatus, DataCategory, GivenBy, Purpose, ShareMode
from casebridge_common.audit import AuditEntry
from casebridge_common.outbox import OutboxMessage
from casebridge_common.testing.plugin import TokenFor, bearer

ALL = "cases:read cases:write cases.sensitive:read consents:write"
ADULT = {
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
SKILLS = {"kind": "skills", "skills": [{"skill": "tailoring", "how_acquired": "work"}], "languages": ["wo"]}


class ConsentState(StrEnum):
    NONE = "none"
    GIVEN = "given"
    NARROWED = "narrowed"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class Headers:
    """`headers("sn-dakar-system")`: a bearer token of that demo client, with every case scope by default."""

    def __init__(self, token: TokenFor) -> None:
        self._token = token

    def __call__(self, client_id: str = "de-berlin-system", scope: str = ALL) -> dict[str, str]:
        return bearer(self._token(client_id, "case-api", scope))


async def open_case_file(
    client: httpx.AsyncClient, headers: dict[str, str], person: dict[str, str] = ADULT, **case: Any
) -> dict[str, Any]:
    """A case with a vulnerability screening, a skills assessment and a case note; `assigned_worker` is unique
    so that a list filtered on it holds this case only."""
    beneficiary = await client.post("/v1/beneficiaries", json=person, headers=headers)
    assert beneficiary.status_code == 201, beneficiary.text
    worker = f"worker-{uuid.uuid4().hex[:12]}"
    opened = await client.post(
        "/v1/cases",
        json={"beneficiary_id": beneficiary.json()["id"], "programme": "return_reintegration"}
        | {"assigned_worker": worker}
        | case,
        headers=headers,
    )
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["id"]
    for body in (SCREENING, SKILLS):
        recorded = await client.post(f"/v1/cases/{case_id}/assessments", json=body, headers=headers)
        assert recorded.status_code == 201, recorded.text
    note = await client.post(f"/v1/cases/{case_id}/notes", json={"body": "Visited the workshop"}, headers=headers)
    assert note.status_code == 201, note.text
    return dict(opened.json()) | {"assigned_worker": worker}


class Database:
    """Commits straight to the API's database, for states the API reaches only over time (expiry)."""

    def __init__(self, url: str) -> None:
        self._url = url

    async def _sessions(self) -> tuple[Any, async_sessionmaker[AsyncSession]]:
        engine = create_async_engine(self._url, poolclass=NullPool)
        return engine, async_sessionmaker(engine, expire_on_commit=False)

    async def add(self, *rows: object) -> None:
        engine, sessions = await self._sessions()
        async with sessions() as session, session.begin():
            session.add_all(rows)
        await engine.dispose()

    async def consent(
        self,
        beneficiary_id: str,
        state: ConsentState | str,
        categories: list[DataCategory],
        *,
        office_id: str = "sn-dakar",
        organisations: tuple[str, ...] = (),
        purposes: tuple[Purpose, ...] = (Purpose.CASE_MANAGEMENT,),
        other: list[DataCategory] | None = None,
        given_by: GivenBy = GivenBy.SELF,
        child_assent: bool = False,
    ) -> list[uuid.UUID]:
        """Consent records of the beneficiary in `state`; `narrowed`: an older record with `categories` and
        `other`, superseded by one with `other` only. Returns the records' ids, oldest first."""
        state = ConsentState(state)
        if state is ConsentState.NONE:
            return []
        now = datetime.now(UTC)
        rest = other or [DataCategory.CONTACT]

        def record(status: ConsentStatus, granted: list[DataCategory], **kw: Any) -> ConsentRecord:
            return ConsentRecord(
                beneficiary_id=uuid.UUID(beneficiary_id),
                status=status,
                given_by=given_by,
                child_assent=child_assent,
                capacity_assessed_by=None if given_by is GivenBy.SELF else "test",
                method=ConsentMethod.WRITTEN,
                notice_version="test-notice-1",
                scopes=[
                    {
                        "data_categories": [str(c) for c in granted],
                        "purposes": [str(p) for p in purposes],
                        "offices": [office_id],
                        "organisations": list(organisations),
                        "organisation_types": [],
                        "countries": [],
                    }
                ],
                valid_from=kw.pop("valid_from", now - timedelta(days=30)),
                recorded_by="test",
                recorded_by_office_id="de-berlin",
                recorded_at=kw.pop("recorded_at", now - timedelta(days=30)),
                **kw,
            )

        if state is ConsentState.GIVEN:
            rows = [record(ConsentStatus.GIVEN, categories)]
        elif state is ConsentState.EXPIRED:
            rows = [record(ConsentStatus.EXPIRED, categories, valid_until=now - timedelta(days=1))]
        elif state is ConsentState.WITHDRAWN:
            rows = [record(ConsentStatus.WITHDRAWN, categories, withdrawn_at=now - timedelta(days=1))]
        else:
            old = record(ConsentStatus.NARROWED, [*categories, *rest])
            new = record(ConsentStatus.GIVEN, rest, supersedes=old.id, recorded_at=now - timedelta(days=1))
            rows = [old, new]
        for row in rows:  # superseded ones first: a narrowing refers to its predecessor
            await self.add(row)
        return [r.id for r in rows]

    async def share(self, case_id: str, office_id: str = "sn-dakar", mode: ShareMode = ShareMode.VIEW) -> None:
        await self.add(
            CaseShare(
                case_id=uuid.UUID(case_id),
                office_id=office_id,
                mode=mode,
                granted_by="test",
                granted_at=datetime.now(UTC),
            )
        )

    async def events(self, case_id: str) -> list[tuple[str, dict[str, Any]]]:
        engine, sessions = await self._sessions()
        async with sessions() as session:
            rows = (
                await session.execute(
                    select(OutboxMessage.event).where(OutboxMessage.key == case_id).order_by(OutboxMessage.seq)
                )
            ).all()
        await engine.dispose()
        return [(row.event["type"], row.event["data"]) for row in rows]

    async def audit(self, resource_id: str) -> list[AuditEntry]:
        engine, sessions = await self._sessions()
        async with sessions() as session:
            rows = (await session.scalars(select(AuditEntry).where(AuditEntry.resource_id == resource_id))).all()
        await engine.dispose()
        return list(rows)


class CaseFiles:
    def __init__(self, client: httpx.AsyncClient, headers: Headers) -> None:
        self._client, self._headers = client, headers

    async def __call__(
        self, owner: str = "de-berlin-system", person: dict[str, str] = ADULT, **case: Any
    ) -> dict[str, Any]:
        return await open_case_file(self._client, self._headers(owner), person, **case)


@pytest.fixture(scope="session")
def headers(token: TokenFor) -> Headers:
    return Headers(token)


@pytest.fixture(scope="session")
def db(test_db_url: str) -> Database:
    return Database(test_db_url)


@pytest.fixture(scope="session")
def case_file(client: httpx.AsyncClient, headers: Headers) -> CaseFiles:
    """`await case_file()`: a de-berlin case file (screening, skills, a note) opened through the API."""
    return CaseFiles(client, headers)


C = DataCategory
CATEGORIES = [C.IDENTITY_BIODATA, C.VULNERABILITY_RESULTS, C.SKILLS_EMPLOYMENT, C.CASE_NOTES]
OWNER, SHAREE, STRANGER = "de-berlin-system", "sn-dakar-system", "iq-erbil-system"


def _reason(withheld: list[dict[str, str]], category: C) -> str | None:
    return next((w["reason"] for w in withheld if w["category"] == category), None)


async def observe(
    client: httpx.AsyncClient, headers: dict[str, str], case: dict[str, Any], category: C
) -> tuple[int, bool, str | None]:
    """(status, whether the category's data was returned, the withheld reason) of the read showing it."""
    if category is C.IDENTITY_BIODATA:
        response = await client.get(f"/v1/beneficiaries/{case['beneficiary_id']}", headers=headers)
        body = response.json()
        if response.status_code != 200:
            return response.status_code, False, None
        return 200, body["given_name"] == "Awa", _reason(body["withheld"], category)
    if category is C.VULNERABILITY_RESULTS:
        response = await client.get(f"/v1/cases/{case['id']}", headers=headers)
        body = response.json()
        if response.status_code != 200:
            return response.status_code, False, None
        return 200, body["vulnerability_categories"] == ["health_needs"], _reason(body["withheld"], category)
    path = "assessments?kind=skills" if category is C.SKILLS_EMPLOYMENT else "notes"
    response = await client.get(f"/v1/cases/{case['id']}/{path}", headers=headers)
    body = response.json()
    if response.status_code != 200:
        return response.status_code, False, None
    (item,) = body["items"]
    shown = item["data"] is not None if category is C.SKILLS_EMPLOYMENT else item["body"] is not None
    return 200, shown, _reason(body["withheld"], category)


async def listed(client: httpx.AsyncClient, headers: dict[str, str], case: dict[str, Any]) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/cases?assigned_worker={case['assigned_worker']}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return list(response.json()["items"])


@pytest.mark.parametrize("state", list(ConsentState))
@pytest.mark.parametrize("category", CATEGORIES)
async def test_each_office_sees_what_ownership_share_and_consent_allow(
    client: httpx.AsyncClient, headers: Headers, db: Database, case_file: CaseFiles, category: C, state: ConsentState
) -> None:
    case = await case_file()
    await db.consent(case["beneficiary_id"], state, [category])
    await db.share(case["id"], "sn-dakar")

    assert await observe(client, headers(OWNER), case, category) == (200, True, None)
    assert [c["id"] for c in await listed(client, headers(OWNER), case)] == [case["id"]]

    sharee = await observe(client, headers(SHAREE), case, category)
    sharee_list = await listed(client, headers(SHAREE), case)
    if state is ConsentState.GIVEN:
        assert sharee == (200, True, None)
        assert [c["id"] for c in sharee_list] == [case["id"]]
    elif state is ConsentState.NARROWED:  # the record in force names another category (contact) only
        assert sharee == (200, False, "consent-does-not-cover")
        assert [c["id"] for c in sharee_list] == [case["id"]]
    else:  # no consent in force at all: the share shows nothing, so the case does not exist for the sharee
        assert sharee[0] == 404
        assert sharee_list == []
    if sharee_list:
        single = (await client.get(f"/v1/cases/{case['id']}", headers=headers(SHAREE))).json()
        assert sharee_list[0] == single  # a list item is the same projection as the single read

    assert (await observe(client, headers(STRANGER), case, category))[0] == 404
    assert await listed(client, headers(STRANGER), case) == []


async def test_a_sensitive_category_needs_the_sensitive_scope_even_with_consent(
    client: httpx.AsyncClient, headers: Headers, db: Database, case_file: CaseFiles
) -> None:
    case = await case_file()
    await db.consent(case["beneficiary_id"], ConsentState.GIVEN, [C.VULNERABILITY_RESULTS, C.IDENTITY_BIODATA])
    await db.share(case["id"], "sn-dakar")
    plain = headers(SHAREE, "cases:read")
    assert await observe(client, plain, case, C.VULNERABILITY_RESULTS) == (200, False, "missing-scope")
    assert await observe(client, plain, case, C.IDENTITY_BIODATA) == (200, True, None)
    owner_plain = headers("de-berlin-reader", "cases:read")
    assert await observe(client, owner_plain, case, C.CASE_NOTES) == (200, False, "missing-scope")


async def test_the_purpose_parameter_decides_too(
    client: httpx.AsyncClient, headers: Headers, db: Database, case_file: CaseFiles
) -> None:
    case = await case_file()
    await db.consent(case["beneficiary_id"], ConsentState.GIVEN, [C.IDENTITY_BIODATA])
    await db.share(case["id"], "sn-dakar")
    url = f"/v1/cases/{case['id']}"
    monitoring = await client.get(f"{url}?purpose=m_and_e", headers=headers(OWNER))
    assert monitoring.status_code == 200
    assert {w["reason"] for w in monitoring.json()["withheld"]} == {"consent-does-not-cover"}
    assert monitoring.json()["vulnerability_categories"] is None
    assert (await client.get(f"{url}?purpose=m_and_e", headers=headers(SHAREE))).status_code == 404
    forbidden = await client.get(f"{url}?purpose=immigration_enforcement", headers=headers(OWNER))
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "purpose-forbidden")
    unknown = await client.get(f"{url}?purpose=curiosity", headers=headers(OWNER))
    assert (unknown.status_code, unknown.json()["errors"][0]["parameter"]) == (422, "purpose")


async def test_a_page_of_cases_never_holds_or_counts_a_hidden_case(
    client: httpx.AsyncClient, headers: Headers, db: Database, case_file: CaseFiles
) -> None:
    """Five cases shared with sn-dakar, consent given for the 1st, 3rd and 5th only: pages of two hold exactly
    the visible ones, and the cursor skips the hidden ones without a short page in the middle."""
    worker = "worker-paging-" + str(id(client))
    cases = [await case_file(assigned_worker=worker) for _ in range(5)]
    for n, case in enumerate(cases):
        await db.share(case["id"], "sn-dakar")
        state = ConsentState.GIVEN if n % 2 == 0 else ConsentState.WITHDRAWN
        await db.consent(case["beneficiary_id"], state, [C.IDENTITY_BIODATA])
    seen: list[list[str]] = []
    url: str | None = f"/v1/cases?assigned_worker={worker}&limit=2"
    while url:
        page = (await client.get(url, headers=headers(SHAREE))).json()
        seen.append([c["id"] for c in page["items"]])
        url = (
            f"/v1/cases?assigned_worker={worker}&limit=2&cursor={page['next_cursor']}" if page["next_cursor"] else None
        )
    newest_first = [c["id"] for c in reversed(cases)]
    assert seen == [[newest_first[0], newest_first[2]], [newest_first[4]]]


# --- cross-office attacks ------------------------------------------------------------------------------------

ATTACKER = "iq-erbil-system"
# Path parameters naming the victim's objects; every other parameter is a sub-resource of those.
VICTIM_IDS = {"case_id", "beneficiary_id", "consent_id"}
SUB_IDS = {"version", "item_id", "share_id", "hold_id", "document_id", "visit_id"}
# Objects of other aggregates, attacked in their own suites (test_transfers_api, test_consents_api,
# test_imports_api, test_people_api, test_return_suspensions_api).
OTHER_AGGREGATES = {"transfer_id", "withdrawal_id", "import_id", "household_id", "suspension_id"}
# Break-glass is the one deliberate way into another office's case (audited, owner notified): tested below.
# The document upload is multipart, not JSON: test_documents_api attacks it the same way.
EXEMPT = {("post", "/v1/cases/{case_id}/break-glass"), ("post", "/v1/cases/{case_id}/documents")}
BODIES: dict[str, dict[str, Any]] = {"/v1/cases/{case_id}/assessments": SKILLS}


def _attackable(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    routes = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            unknown = names - VICTIM_IDS - SUB_IDS - OTHER_AGGREGATES
            assert not unknown, f"{method} {path}: classify {unknown} for the attack tests"
            if names & VICTIM_IDS and (method, path) not in EXEMPT:
                routes.append((method, path, operation))
    return routes


def _example(spec: dict[str, Any], path: str, operation: dict[str, Any]) -> dict[str, Any] | None:
    if "requestBody" not in operation:
        return None
    if path in BODIES:
        return BODIES[path]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    name = ref.rsplit("/", 1)[1]
    schema = spec["components"]["schemas"][name]
    assert "examples" in schema, f"{name} has no OpenAPI example"
    return dict(schema["examples"][0])


async def _call(
    client: httpx.AsyncClient, method: str, url: str, body: dict[str, Any] | None, auth: dict[str, str]
) -> httpx.Response:
    extra = {"If-Match": '"1"', "Idempotency-Key": f"attack-{uuid.uuid4()}"}
    return await client.request(method, url, json=body, headers=auth | extra)


def _normalised(response: httpx.Response, ids: list[str]) -> str:
    body = response.json()
    body.pop("instance", None)
    body.pop("trace_id", None)
    text = str(sorted(body.items()))
    for n, value in enumerate(ids):
        text = text.replace(value, f"<id{n}>")
    return text


async def test_every_endpoint_taking_an_id_is_the_same_404_for_another_offices_case_as_for_none(
    client: httpx.AsyncClient, headers: Headers, db: Database, case_file: CaseFiles
) -> None:
    from case_service.main import create_app
    from case_service.settings import Settings

    spec = create_app(
        Settings(database_url="postgresql+asyncpg://unused@127.0.0.1/unused", oidc_issuer="http://127.0.0.1:1")  # type: ignore[arg-type]
    ).openapi()
    case = await case_file()
    (consent_id,) = await db.consent(case["beneficiary_id"], ConsentState.GIVEN, [C.IDENTITY_BIODATA])
    victim = {"case_id": case["id"], "beneficiary_id": case["beneficiary_id"], "consent_id": str(consent_id)}
    attacker = headers(ATTACKER, f"{ALL} audit:read cases:admin")
    before = (await client.get("/v1/cases?limit=200", headers=attacker)).json()
    events_before = await db.events(case["id"])
    routes = _attackable(spec)
    assert len(routes) > 20  # the enumeration itself works
    for method, path, operation in routes:
        random_ids = {k: str(uuid.uuid4()) for k in victim}
        subs: dict[str, str] = {"version": "1", "item_id": str(uuid.uuid4()), "share_id": str(uuid.uuid4())}
        subs["hold_id"] = subs["document_id"] = subs["visit_id"] = str(uuid.uuid4())
        query = "?against=1" if path.endswith("/diff") else ""
        body = _example(spec, path, operation)
        real = await _call(client, method, path.format(**victim, **subs) + query, body, attacker)
        fake = await _call(client, method, path.format(**random_ids, **subs) + query, body, attacker)
        where = f"{method.upper()} {path}"
        assert real.status_code == 404, f"{where}: {real.status_code} {real.text}"
        assert fake.status_code == 404, f"{where}: {fake.status_code} {fake.text}"
        assert "etag" not in real.headers, where
        assert sorted(real.headers) == sorted(fake.headers), where
        assert _normalised(real, [*victim.values()]) == _normalised(fake, [*random_ids.values()]), where
    after = (await client.get("/v1/cases?limit=200", headers=attacker)).json()
    assert [c["id"] for c in after["items"]] == [c["id"] for c in before["items"]]
    assert case["id"] not in {c["id"] for c in after["items"]}
    assert await db.events(case["id"]) == events_before  # nothing was changed or sent
    owner_view = (await client.get(f"/v1/cases/{case['id']}", headers=headers())).json()
    assert owner_view["version"] == case["version"] + 1  # only the screening bumped it, before the attack
    denied = [e for e in await db.audit(case["id"]) if e.actor_client_id == ATTACKER]
    assert denied
    assert {e.outcome for e in denied} == {"denied"}


# --- shares, referral links, break-glass, disclosure preview, edit shares ---------------------------------------


async def test_a_share_needs_consent_and_its_revocation_ends_access_at_once(
    client: httpx.AsyncClient, headers: Headers, db: Database, case_file: CaseFiles
) -> None:
    case = await case_file()
    shares = f"/v1/cases/{case['id']}/shares"
    owner, dakar, erbil = headers(), headers(SHAREE), headers(STRANGER)
    refused = await client.post(shares, json={"office_id": "sn-dakar", "mode": "view"}, headers=owner)
    assert (refused.status_code, refused.json()["code"]) == (403, "consent-required")
    (consent_id,) = await db.consent(
        case["beneficiary_id"], ConsentState.GIVEN, [C.IDENTITY_BIODATA, C.SKILLS_EMPLOYMENT]
    )
    for body, code in (
        ({"office_id": "de-berlin", "mode": "view"}, "share-with-owner"),
        ({"office_id": "sn-dakar", "mode": "view", "expires_at": "2020-01-01T00:00:00Z"}, "share-expiry-in-past"),
    ):
        bad = await client.post(shares, json=body, headers=owner)
        assert (bad.status_code, bad.json()["code"]) == (422, code)
    key = {"Idempotency-Key": f"share-{uuid.uuid4()}"}
    created = await client.post(shares, json={"office_id": "sn-dakar", "mode": "view"}, headers=owner | key)
    assert created.status_code == 201, created.text
    replayed = await client.post(shares, json={"office_id": "sn-dakar", "mode": "view"}, headers=owner | key)
    assert (replayed.status_code, replayed.headers["idempotent-replayed"]) == (201, "true")
    assert replayed.json() == created.json()
    share = created.json()
    assert (share["office_id"], share["mode"], share["active"]) == ("sn-dakar", "view", True)

    seen = (await client.get(f"/v1/cases/{case['id']}", headers=dakar)).json()
    assert seen["vulnerability_categories"] is None
    assert {"category": "vulnerability_results", "reason": "consent-does-not-cover"} in seen["withheld"]
    assert (await client.get(f"/v1/beneficiaries/{case['beneficiary_id']}", headers=dakar)).json()["given_name"]
    skills = (await client.get(f"/v1/cases/{case['id']}/assessments?kind=skills", headers=dakar)).json()
    assert skills["items"][0]["data"]["languages"] == ["wo"]
    reads = [e for e in await db.audit(case["id"]) if e.actor_client_id == SHAREE and e.resource_type == "case"]
    assert (reads[-1].reason, reads[-1].basis, reads[-1].purpose) == (
        "share-and-consent",
        str(consent_id),
        "case_management",
    )

    not_owner = await client.post(shares, json={"office_id": "iq-erbil", "mode": "view"}, headers=dakar)
    assert (not_owner.status_code, not_owner.json()["code"], not_owner.json()["reason"]) == (
        403,
        "access-denied",
        "not-owner",
    )
    assert (await client.get(shares, headers=dakar)).status_code == 403
    assert (await client.get(shares, headers=erbil)).status_code == 404

    revoked = await client.delete(f"{shares}/{share['id']}", headers=owner)
    assert revoked.status_code == 200
    assert (revoked.json()["active"], revoked.json()["revoked_at"] is not None) == (False, True)
    again = await client.delete(f"{shares}/{share['id']}", headers=owner)
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
    assert (await client.get(f"/v1/cases/{case['id']}", headers=dakar)).status_code == 404
    assert await listed(client, dakar, case) == []
    missing = await client.delete(f"{shares}/{uuid.uuid4()}", headers=owner)
    assert (missing.status_code, missing.json()["code"]) == (404, "share-not-found")
    history = (await client.get(shares, headers=owner)).json()["items"]
    assert [(s["id"], s["active"]) for s in history] == [(share["id"], False)]
    kinds = [kind for kind, _ in await db.events(case["id"])]
    assert kinds.count("casebridge.case.shared.v1") == 1
    assert kinds.count("casebridge.case.share_revoked.v1") == 1


async def test_an_edit_share_writes_only_what_consent_covers_and_never_closes(
    client: httpx.AsyncClient, headers: Headers, db: Database, case_file: CaseFiles
) -> None:
    case = await case_file()
    await db.consent(case["beneficiary_id"], ConsentState.GIVEN, [C.CASE_NOTES, C.IDENTITY_BIODATA])
    await db.share(case["id"], "sn-dakar", ShareMode.EDIT)
    await db.share(case["id"], "iq-erbil", ShareMode.VIEW)
    await db.consent(case["beneficiary_id"], ConsentState.GIVEN, [C.CASE_NOTES], office_id="iq-erbil")
    dakar = headers(SHAREE)
    note = await client.post(f"/v1/cases/{case['id']}/notes", json={"body": "Called from Dakar"}, headers=dakar)
    assert note.status_code == 201, note.text
    assert note.json()["body"] == "Called from Dakar"
    plan = await client.post(
        f"/v1/cases/{case['id']}/plans",
        json={"drafted_in": "origin", "content": {"place_of_return": "Thiès"}},
        headers=dakar,
    )
    assert (plan.status_code, plan.json()["code"], plan.json()["reason"]) == (
        403,
        "access-denied",
        "consent-does-not-cover",
    )
    closing = await client.post(
        f"/v1/cases/{case['id']}/stage-transitions",
        json={"to_stage": "closed", "closure": {"closure_reason": "left_the_area", "closure_type": "abrupt"}},
        headers=dakar | {"If-Match": '"2"'},
    )
    assert (closing.status_code, closing.json()["reason"]) == (403, "not-owner")
    read_only = await client.post(f"/v1/cases/{case['id']}/notes", json={"body": "x"}, headers=headers(STRANGER))
    assert (read_only.status_code, read_only.json()["reason"]) == (403, "share-read-only")
    bodies = [n["body"] for n in (await client.get(f"/v1/cases/{case['id']}/notes", headers=headers())).json()["items"]]
    assert bodies == ["Called from Dakar", "Visited the workshop"]


async def test_a_referral_makes_its_destination_a_reader_until_it_is_closed(
    client: httpx.AsyncClient, headers: Headers, db: Database, case_file: CaseFiles, test_db_url: str
) -> None:
    from case_service.consumers import HANDLERS
    from case_service.unit_of_work import CaseUnitOfWork
    from casebridge_common.events.contracts.referral import ReferralAccepted, ReferralCompleted, ReferralSent
    from casebridge_common.events.envelope import CloudEvent

    case = await case_file()
    await db.consent(
        case["beneficiary_id"], ConsentState.GIVEN, [C.IDENTITY_BIODATA], office_id="-", organisations=("iom-senegal",)
    )
    engine = create_async_engine(test_db_url, poolclass=NullPool)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    referral = {
        "referral_id": str(uuid.uuid4()),
        "case_id": case["id"],
        "referring_office_id": "de-berlin",
        "destination_organisation_id": "iom-senegal",
        "destination_office_id": None,
        "destination_service_id": None,
    }
    sent = ReferralSent.model_validate(
        ReferralSent.model_config["json_schema_extra"]["examples"][0] | referral | {"referral_version": 1}  # type: ignore[index]
    )

    async def deliver(event: CloudEvent) -> None:
        await HANDLERS[event.type](event, CaseUnitOfWork(sessions))

    dakar = headers(SHAREE)
    assert (await client.get(f"/v1/cases/{case['id']}", headers=dakar)).status_code == 404
    first = CloudEvent.wrap(sent, source="/casebridge/referral-service")
    await deliver(first)
    await deliver(first)  # redelivered: one effect
    assert (await client.get(f"/v1/cases/{case['id']}", headers=dakar)).status_code == 200
    assert [c["id"] for c in await listed(client, dakar, case)] == [case["id"]]
    await deliver(
        CloudEvent.wrap(ReferralCompleted(**referral, referral_version=3, service_delivered="yes"), source="/rs")
    )
    assert (await client.get(f"/v1/cases/{case['id']}", headers=dakar)).status_code == 404
    await deliver(CloudEvent.wrap(ReferralAccepted(**referral, referral_version=2), source="/rs"))  # late, stale
    assert (await client.get(f"/v1/cases/{case['id']}", headers=dakar)).status_code == 404
    assert await listed(client, dakar, case) == []
    elsewhere = ReferralSent.model_validate(sent.model_dump() | {"case_id": uuid.uuid4(), "referral_id": uuid.uuid4()})
    await deliver(CloudEvent.wrap(elsewhere, source="/rs"))  # a case this service does not hold: ignored
    await engine.dispose()


async def test_break_glass_opens_a_case_to_its_holder_alone_for_a_while_and_tells_the_owner(
    client: httpx.AsyncClient, headers: Headers, db: Database, case_file: CaseFiles
) -> None:
    case = await case_file()
    url = f"/v1/cases/{case['id']}/break-glass"
    erbil = headers(STRANGER)
    justification = "Returnee collapsed at our office; need the vulnerability screening now"
    reason = {"justification": justification}
    short = await client.post(url, json={"justification": "urgent"}, headers=erbil)
    assert (short.status_code, short.json()["errors"][0]["pointer"]) == (422, "#/justification")
    no_role = await client.post(url, json=reason, headers=headers("de-berlin-dpo", "cases:read"))
    assert (no_role.status_code, no_role.json()["code"]) == (403, "break-glass-role-required")
    unknown = await client.post(f"/v1/cases/{uuid.uuid4()}/break-glass", json=reason, headers=erbil)
    assert unknown.status_code == 404
    assert (await client.get(f"/v1/cases/{case['id']}", headers=erbil)).status_code == 404

    granted = await client.post(url, json=reason, headers=erbil)
    assert granted.status_code == 201, granted.text
    grant = granted.json()
    lasts = datetime.fromisoformat(grant["expires_at"]) - datetime.fromisoformat(grant["granted_at"])
    assert lasts == timedelta(hours=4)
    opened = (await client.get(f"/v1/cases/{case['id']}", headers=erbil)).json()
    assert (opened["vulnerability_categories"], opened["withheld"]) == (["health_needs"], [])
    assert [c["id"] for c in await listed(client, erbil, case)] == [case["id"]]
    assert (await client.get(f"/v1/cases/{case['id']}", headers=headers("sn-dakar-mhp"))).status_code == 404
    write = await client.post(f"/v1/cases/{case['id']}/notes", json={"body": "x"}, headers=erbil)
    assert (write.status_code, write.json()["reason"]) == (403, "break-glass-read-only")

    (used,) = [data for kind, data in await db.events(case["id"]) if kind == "casebridge.case.break_glass_used.v1"]
    assert (used["owner_office_id"], used["actor_office_id"], used["grant_id"]) == (
        "de-berlin",
        "iq-erbil",
        grant["id"],
    )
    (entry,) = await db.audit(grant["id"])
    assert (entry.action, entry.reason, entry.case_id) == ("break_glass", justification, uuid.UUID(case["id"]))
    reads = [e for e in await db.audit(case["id"]) if e.actor_client_id == STRANGER and e.outcome == "allowed"]
    assert {e.reason for e in reads} == {"break-glass"}


async def test_the_disclosure_preview_names_every_field_that_would_leave_and_its_consent(
    client: httpx.AsyncClient, headers: Headers, db: Database, case_file: CaseFiles
) -> None:
    case = await case_file()
    (consent_id,) = await db.consent(
        case["beneficiary_id"], ConsentState.GIVEN, [C.IDENTITY_BIODATA, C.SKILLS_EMPLOYMENT]
    )
    url = f"/v1/cases/{case['id']}/disclosure-preview?recipient_office_id=sn-dakar"
    preview = await client.get(url, headers=headers())
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["recipient"]["office_id"] == "sn-dakar"
    assert [(d["category"], d["consent_id"]) for d in body["disclosed"]] == [
        ("identity_biodata", str(consent_id)),
        ("skills_employment", str(consent_id)),
    ]
    assert "beneficiary.given_name" in body["disclosed"][0]["fields"]
    assert "assessment.skills.languages" in body["disclosed"][1]["fields"]
    withheld = {w["category"]: w for w in body["withheld"]}
    assert withheld["vulnerability_results"]["reason"] == "consent-does-not-cover"
    assert "case.vulnerability_categories" in withheld["vulnerability_results"]["fields"]
    other_purpose = (await client.get(url + "&purpose=research", headers=headers())).json()
    assert other_purpose["disclosed"] == []
    forbidden = await client.get(url + "&purpose=immigration_enforcement", headers=headers())
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "purpose-forbidden")
    await db.share(case["id"], "sn-dakar")
    sharee = await client.get(url, headers=headers(SHAREE))
    assert (sharee.status_code, sharee.json()["reason"]) == (403, "not-owner")
    assert (await client.get(url, headers=headers(STRANGER))).status_code == 404
    assert not [kind for kind, _ in await db.events(case["id"]) if "shared" in kind]  # a preview sends nothing


async def test_a_childs_case_is_seen_by_a_sharee_only_under_a_guardians_consent_with_the_childs_assent(
    client: httpx.AsyncClient, headers: Headers, db: Database, case_file: CaseFiles
) -> None:
    child = {**ADULT, "given_name": "Mariama", "born_on": "2015-05-01"}
    case = await case_file(person=child)
    await db.share(case["id"], "sn-dakar")
    await db.consent(case["beneficiary_id"], ConsentState.GIVEN, [C.IDENTITY_BIODATA])  # the child alone
    assert (await client.get(f"/v1/cases/{case['id']}", headers=headers(SHAREE))).status_code == 404
    await db.consent(
        case["beneficiary_id"], ConsentState.GIVEN, [C.IDENTITY_BIODATA], given_by=GivenBy.PARENT, child_assent=True
    )
    seen = await client.get(f"/v1/beneficiaries/{case['beneficiary_id']}", headers=headers(SHAREE))
    assert (seen.status_code, seen.json()["given_name"]) == (200, "Mariama")


async def test_the_office_and_country_filters_match_only_what_the_caller_may_see(
    client: httpx.AsyncClient, headers: Headers, db: Database, case_file: CaseFiles
) -> None:
    person = ADULT | {"country_of_origin": "SN", "country_of_return": "SN"}
    case = await case_file(person=person)
    await db.consent(case["beneficiary_id"], ConsentState.GIVEN, [C.IDENTITY_BIODATA])  # not migration history
    await db.share(case["id"], "sn-dakar")
    worker = f"/v1/cases?assigned_worker={case['assigned_worker']}"

    async def ids(client_id: str, query: str) -> list[str]:
        response = await client.get(worker + query, headers=headers(client_id))
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()["items"]]

    assert await ids(OWNER, "&country_of_origin=SN&country_of_return=SN&office=de-berlin") == [case["id"]]
    assert await ids(OWNER, "&country_of_origin=IQ") == []
    assert await ids(OWNER, "&country_of_resettlement=SN") == []
    assert await ids(OWNER, "&office=sn-dakar") == []
    # the sharee may see the identity data (origin) but not the migration history (return): filtering on the
    # return country must not reveal it, although the case matches
    assert await ids(SHAREE, "&office=de-berlin&country_of_origin=SN") == [case["id"]]
    assert await ids(SHAREE, "&country_of_return=SN") == []
    assert await ids(SHAREE, "") == [case["id"]]
    assert await ids(STRANGER, "&country_of_origin=SN") == []

    bad = await client.get(worker + "&country_of_origin=sn", headers=headers(OWNER))
    assert (bad.status_code, bad.json()["code"]) == (422, "validation-error")
    assert [e["parameter"] for e in bad.json()["errors"]] == ["country_of_origin"]


async def test_a_stale_assistance_closure_by_an_edit_share_does_not_reveal_the_withheld_version(
    client: httpx.AsyncClient, headers: Headers, db: Database, case_file: CaseFiles
) -> None:
    case = await case_file()
    item = {
        "assistance_type": "psychosocial_counselling",
        "modality": "service",
        "tranches": [{"amount": "0", "due_on": "2027-02-01"}],
    }
    created = await client.post(f"/v1/cases/{case['id']}/assistance", json=item, headers=headers())
    assert created.status_code == 201, created.text
    # Dakar may see and write what was given (`assistance`), not the deliveries the version counts
    await db.consent(case["beneficiary_id"], ConsentState.GIVEN, [C.ASSISTANCE])
    await db.share(case["id"], "sn-dakar", ShareMode.EDIT)
    dakar = headers(SHAREE)
    path = f"/v1/cases/{case['id']}/assistance/{created.json()['id']}/closure"
    body = {"status": "unmet_need", "reason": "No counsellor in the district"}
    stale = await client.post(path, json=body, headers=dakar | {"If-Match": '"7"'})
    assert (stale.status_code, stale.json()["code"]) == (412, "version-mismatch")
    assert "current_version" not in stale.json()
    closed = await client.post(path, json=body, headers=dakar)
    assert (closed.status_code, closed.json()["status"], closed.json()["version"]) == (200, "unmet_need", None)
    assert "etag" not in closed.headers
    owner = await client.post(path, json=body, headers=headers() | {"If-Match": '"1"'})
    assert (owner.status_code, owner.json()["current_version"]) == (412, 2)  # the owner sees the version


async def test_an_edit_share_that_may_not_see_the_plan_cannot_probe_its_items(
    client: httpx.AsyncClient, headers: Headers, db: Database, case_file: CaseFiles
) -> None:
    case = await case_file()
    plan = {"drafted_in": "origin", "content": {"place_of_return": "Thiès", "items": [{"type": "medical_support"}]}}
    assert (await client.post(f"/v1/cases/{case['id']}/plans", json=plan, headers=headers())).status_code == 201
    await db.consent(case["beneficiary_id"], ConsentState.GIVEN, [C.ASSISTANCE, C.FINANCIAL_PAYMENTS])
    await db.share(case["id"], "sn-dakar", ShareMode.EDIT)
    item = {
        "assistance_type": "psychosocial_counselling",
        "modality": "service",
        "tranches": [{"amount": "0", "due_on": "2027-02-01"}],
        "plan_item": {"plan_version": 1, "item": 0},
    }
    path = f"/v1/cases/{case['id']}/assistance"
    for link in ({"plan_version": 1, "item": 0}, {"plan_version": 9, "item": 0}):  # one exists, one does not
        probed = await client.post(path, json=item | {"plan_item": link}, headers=headers(SHAREE))
        assert (probed.status_code, probed.json()["code"]) == (422, "plan-item-not-found"), link
    linked = await client.post(path, json=item, headers=headers())
    assert (linked.status_code, linked.json()["plan_item"]) == (201, {"plan_version": 1, "item": 0})

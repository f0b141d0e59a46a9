"""The referral and directory APIs over HTTP: real tokens, real PostgreSQL, problem+json and no side effect."""

import csv
import io
import uuid
import zipfile
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlmodel import col

from casebridge_common.access import ConsentStatus, DataCategory, Purpose
from casebridge_common.db import session_factory, utc_now
from casebridge_common.events.contracts.case import CaseOpened, Programme
from casebridge_common.events.contracts.consent import ConsentGiven, ConsentWithdrawn, ScopeTerms, WithdrawalKind
from casebridge_common.events.envelope import CloudEvent
from casebridge_common.outbox import OutboxMessage
from casebridge_common.testing.plugin import TokenFor, bearer
from referral_service.consumers import on_case_opened, on_consent_given, on_consent_withdrawn
from referral_service.domain.models import Disclosure, Pathway, Referral
from referral_service.main import create_app
from referral_service.schemas import DirectoryImport
from referral_service.service_layer.directory import load_directory
from referral_service.settings import Settings
from referral_service.unit_of_work import ReferralUnitOfWork

DEMO = Path(__file__).resolve().parents[4] / "deploy" / "demo" / "directory.json"


class Seeded:
    """A private database with the demo directory and two cases owned by the Berlin office: the beneficiary of
    `berlin_case` consented (`consent_id`) to their identity and contact going to cfp-dakar for a referral, and
    to the provider's feedback to the Berlin office; the one of `bare_case` consented to nothing."""

    def __init__(self, url: str, berlin_case: UUID, bare_case: UUID, consent_id: UUID) -> None:
        self.url, self.berlin_case, self.bare_case, self.consent_id = url, berlin_case, bare_case, consent_id


async def _open_case(sessions: async_sessionmaker[AsyncSession], beneficiary_id: UUID) -> UUID:
    opened = CaseOpened(
        case_id=uuid4(),
        case_version=1,
        beneficiary_id=beneficiary_id,
        programme=Programme.RETURN_REINTEGRATION,
        owner_office_id="de-berlin",
        owner_organisation_id="iom-germany",
        opened_at=utc_now(),
    )
    await on_case_opened(CloudEvent.wrap(opened, source="/casebridge/case-service"), ReferralUnitOfWork(sessions))
    return opened.case_id


@pytest.fixture
async def seeded(fresh_database: str) -> Seeded:
    engine = create_async_engine(fresh_database)
    sessions = session_factory(engine)
    async with ReferralUnitOfWork(sessions) as uow:
        await load_directory(uow, DirectoryImport.model_validate_json(DEMO.read_text()), now=utc_now())
        await uow.commit()
    beneficiary_id = uuid4()
    case_id = await _open_case(sessions, beneficiary_id)
    bare_case = await _open_case(sessions, uuid4())
    consent = ConsentGiven(
        consent_id=uuid4(),
        beneficiary_id=beneficiary_id,
        case_ids=[case_id],
        owner_office_id="de-berlin",
        status=ConsentStatus.GIVEN,
        renewed=False,
        supersedes=None,
        scopes=[
            ScopeTerms(
                data_categories=[DataCategory.IDENTITY_BIODATA, DataCategory.CONTACT],
                purposes=[Purpose.REFERRAL_SERVICE_DELIVERY],
                organisations=["cfp-dakar"],
            ),
            ScopeTerms(
                data_categories=[DataCategory.ASSISTANCE],
                purposes=[Purpose.PROVIDER_FEEDBACK],
                offices=["de-berlin"],
            ),
        ],
        valid_from=utc_now() - timedelta(days=1),
        valid_until=None,
    )
    await on_consent_given(CloudEvent.wrap(consent, source="/casebridge/case-service"), ReferralUnitOfWork(sessions))
    await engine.dispose()
    return Seeded(fresh_database, case_id, bare_case, consent.consent_id)


@pytest.fixture
async def client(seeded: Seeded, oidc_issuer: str) -> AsyncIterator[httpx.AsyncClient]:
    """The referral API in-process on a private database, validating real tokens from the local IdP."""
    settings = Settings(database_url=seeded.url, oidc_issuer=oidc_issuer, environment="test")
    async with LifespanManager(create_app(settings)) as manager:
        transport = httpx.ASGITransport(manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://referral-service") as client:
            yield client


SEND = "referrals:read referrals:send directory:read"
RESPOND = "referrals:read referrals:respond directory:read directory:write"
SERVICE = "cfp-dakar-tvet-dakar"
FALLBACK = "cfp-dakar-apprenticeship-thies"


def berlin(token: TokenFor) -> dict[str, str]:
    return bearer(token("de-berlin-system", "referral-api", SEND))


def partner(token: TokenFor) -> dict[str, str]:
    return bearer(token("cfp-dakar-partner", "referral-api", RESPOND))


async def count(url: str, model: type) -> int:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        result = int(await conn.scalar(select(func.count()).select_from(model)) or 0)
    await engine.dispose()
    return result


def referral_body(seeded: Seeded, **extra: Any) -> dict[str, Any]:
    return {"case_id": str(seeded.berlin_case), "destination": {"service_id": SERVICE}, "reason": "Training"} | extra


async def test_creating_a_referral_twice_with_one_idempotency_key_makes_one_draft(
    client: httpx.AsyncClient, token: TokenFor, seeded: Seeded
) -> None:
    headers = berlin(token) | {"Idempotency-Key": str(uuid.uuid4())}
    first = await client.post("/v1/referrals", json=referral_body(seeded), headers=headers)
    second = await client.post("/v1/referrals", json=referral_body(seeded), headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.headers["idempotent-replayed"] == "true"
    assert first.json()["id"] == second.json()["id"]
    assert first.headers["etag"] == '"1"'
    assert await count(seeded.url, Referral) == 1
    reused = await client.post("/v1/referrals", json=referral_body(seeded, reason="Other"), headers=headers)
    assert reused.json()["code"] == "idempotency-key-reused"


async def test_bad_referrals_are_refused_with_a_clear_code_and_no_side_effect(
    client: httpx.AsyncClient, token: TokenFor, seeded: Seeded
) -> None:
    events_before = await count(seeded.url, OutboxMessage)
    cases = [
        (referral_body(seeded, destination={"service_id": "no-such-service"}), 422, "unknown-destination"),
        (referral_body(seeded, destination={"office_id": "no-such-office"}), 422, "unknown-destination"),
        (referral_body(seeded, destination={"organisation_id": "iom-senegal"}), 422, "category-required"),
        (referral_body(seeded, destination={}), 422, "validation-error"),
        (referral_body(seeded, case_id=str(uuid.uuid4())), 404, "case-not-found"),
        (
            referral_body(seeded, destination={"service_id": "cfp-dakar-apprenticeship-thies"}),
            409,
            "service-not-accepting-referrals",
        ),
        (referral_body(seeded, destination={"office_id": "de-berlin"}, category="legal_justice"), 422, "self-referral"),
        (referral_body(seeded, mhpss_level="level_1_immediate_life_saving"), 422, "mhpss-level-needs-mhpss-category"),
        (
            referral_body(
                seeded,
                destination={"service_id": "de-berlin-psz-counselling"},
                mhpss_level="level_2_psychological_counselling",
                urgency="routine",
            ),
            422,
            "urgency-below-mhpss-level",
        ),
    ]
    for body, status, code in cases:
        response = await client.post("/v1/referrals", json=body, headers=berlin(token))
        assert (response.status_code, response.json()["code"]) == (status, code), body
        assert response.headers["content-type"] == "application/problem+json"
    erbil = bearer(token("iq-erbil-system", "referral-api", SEND))
    foreign = await client.post("/v1/referrals", json=referral_body(seeded), headers=erbil)
    assert (foreign.status_code, foreign.json()["code"]) == (404, "case-not-found")
    assert await count(seeded.url, Referral) == 0
    assert await count(seeded.url, OutboxMessage) == events_before


async def test_state_changes_need_the_current_etag_the_right_side_and_a_legal_transition(
    client: httpx.AsyncClient, token: TokenFor, seeded: Seeded
) -> None:
    draft = (await client.post("/v1/referrals", json=referral_body(seeded), headers=berlin(token))).json()
    path = f"/v1/referrals/{draft['id']}"
    assert (await client.post(f"{path}/send", headers=berlin(token))).status_code == 428
    stale = await client.post(f"{path}/send", headers=berlin(token) | {"If-Match": '"7"'})
    assert (stale.status_code, stale.json()["code"]) == (412, "version-mismatch")
    assert (await client.get(path, headers=partner(token))).status_code == 404  # a draft is the sender's only
    sent = await client.post(f"{path}/send", headers=berlin(token) | {"If-Match": '"1"'})
    assert sent.status_code == 200
    assert sent.headers["etag"] == '"2"'
    early = await client.post(f"{path}/accept", headers=partner(token) | {"If-Match": '"2"'})
    assert early.status_code == 409
    assert (early.json()["code"], early.json()["action"], early.json()["from_status"]) == (
        "illegal-referral-transition",
        "accept",
        "requested",
    )
    wrong_side = await client.post(
        f"{path}/acknowledge",
        headers=bearer(token("de-berlin-system", "referral-api", "referrals:respond")) | {"If-Match": '"2"'},
    )
    assert (wrong_side.status_code, wrong_side.json()["code"]) == (403, "not-referral-destination")
    acknowledged = await client.post(f"{path}/acknowledge", headers=partner(token) | {"If-Match": '"2"'})
    declined = await client.post(
        f"{path}/decline", json={"reason": "no_capacity"}, headers=partner(token) | {"If-Match": '"3"'}
    )
    assert (acknowledged.status_code, declined.status_code) == (200, 200)
    assert (declined.json()["status"], declined.json()["decline_reason"]) == ("rejected", "no_capacity")
    cancel = await client.post(
        f"{path}/cancel", json={"reason": "changed plan"}, headers=berlin(token) | {"If-Match": '"4"'}
    )
    assert cancel.status_code == 409


async def test_the_inbox_and_outbox_show_each_side_its_referrals_in_pages(
    client: httpx.AsyncClient, token: TokenFor, seeded: Seeded
) -> None:
    for _ in range(3):
        draft = (await client.post("/v1/referrals", json=referral_body(seeded), headers=berlin(token))).json()
        await client.post(f"/v1/referrals/{draft['id']}/send", headers=berlin(token) | {"If-Match": '"1"'})
    await client.post("/v1/referrals", json=referral_body(seeded), headers=berlin(token))  # a draft stays out
    first = (await client.get("/v1/referrals/inbox", params={"limit": 2}, headers=partner(token))).json()
    second = (
        await client.get(
            "/v1/referrals/inbox", params={"limit": 2, "cursor": first["next_cursor"]}, headers=partner(token)
        )
    ).json()
    assert len(first["items"]) == 2
    assert len(second["items"]) == 1
    assert second["next_cursor"] is None
    outbox = (await client.get("/v1/referrals/outbox", headers=berlin(token))).json()
    assert sorted(r["status"] for r in outbox["items"]) == ["draft", "requested", "requested", "requested"]
    senegal = bearer(token("sn-dakar-system", "referral-api", SEND))
    assert (await client.get("/v1/referrals/inbox", headers=senegal)).json()["items"] == []
    replayed = await client.get("/v1/referrals/outbox", params={"cursor": first["next_cursor"]}, headers=berlin(token))
    assert (replayed.status_code, replayed.json()["code"]) == (400, "invalid-cursor")


async def test_a_provider_updates_only_its_own_capacity_and_the_change_is_an_event(
    client: httpx.AsyncClient, token: TokenFor, seeded: Seeded
) -> None:
    current = await client.get(f"/v1/directory/services/{SERVICE}", headers=partner(token))
    version = current.headers["etag"]
    events_before = await count(seeded.url, OutboxMessage)
    body = {"open_for_referrals": True, "available_places": 0, "waiting_time_days": 30}
    assert (
        await client.put(f"/v1/directory/services/{SERVICE}/capacity", json=body, headers=partner(token))
    ).status_code == 428
    updated = await client.put(
        f"/v1/directory/services/{SERVICE}/capacity", json=body, headers=partner(token) | {"If-Match": version}
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["capacity"]["accepting_referrals"] is False
    assert await count(seeded.url, OutboxMessage) == events_before + 1
    other = await client.put(
        "/v1/directory/services/de-berlin-psz-counselling/capacity",
        json=body,
        headers=partner(token) | {"If-Match": '"1"'},
    )
    assert (other.status_code, other.json()["code"]) == (404, "service-not-found")
    full = await client.get(
        "/v1/directory/services", params={"category": "tvet", "accepting_referrals": "true"}, headers=partner(token)
    )
    assert full.json()["items"] == []


async def _walk(client: httpx.AsyncClient, token: TokenFor, seeded: Seeded, steps: list[tuple[str, Any]]) -> None:
    draft = (await client.post("/v1/referrals", json=referral_body(seeded), headers=berlin(token))).json()
    for version, (action, body) in enumerate([("send", None), *steps], start=1):
        headers = (berlin(token) if action == "send" else partner(token)) | {"If-Match": f'"{version}"'}
        response = await client.post(f"/v1/referrals/{draft['id']}/{action}", json=body, headers=headers)
        assert response.status_code == 200, response.text


async def test_a_provider_scorecard_counts_how_it_answered_its_referrals(
    client: httpx.AsyncClient, token: TokenFor, seeded: Seeded
) -> None:
    outcome = {"service_delivered": "partial", "outcome_summary": "Attended half the course"}
    await _walk(
        client, token, seeded, [("acknowledge", None), ("accept", None), ("start", None), ("complete", outcome)]
    )
    await _walk(client, token, seeded, [("acknowledge", None), ("decline", {"reason": "not_eligible"})])
    await _walk(client, token, seeded, [])
    card = await client.get("/v1/directory/organisations/cfp-dakar/scorecard", headers=berlin(token))
    assert card.status_code == 200, card.text
    body = card.json()
    assert (body["sent"], body["acknowledged"], body["accepted"], body["declined"], body["completed"]) == (
        3,
        2,
        1,
        1,
        1,
    )
    assert (body["acknowledgement_rate"], body["acceptance_rate"], body["completion_rate"]) == (0.6667, 0.5, 1.0)
    assert body["median_hours_to_acknowledge"] is not None
    unknown = await client.get("/v1/directory/organisations/nobody/scorecard", headers=berlin(token))
    assert (unknown.status_code, unknown.json()["code"]) == (404, "organisation-not-found")


async def test_suggestions_follow_the_pathway_and_skip_ahead_of_a_full_first_choice(
    client: httpx.AsyncClient, token: TokenFor, seeded: Seeded
) -> None:
    pathways = await client.get("/v1/directory/pathways", params={"country": "SN"}, headers=partner(token))
    assert [p["id"] for p in pathways.json()["items"]] == ["sn-mhpss-level-1", "sn-tvet"]
    params: dict[str, str | int] = {"country": "SN", "category": "tvet", "age": 25, "language": "wo"}
    first = (await client.get("/v1/directory/suggestions", params=params, headers=berlin(token))).json()
    assert first["pathway"]["id"] == "sn-tvet"
    assert [i["service"]["id"] for i in first["items"]] == ["cfp-dakar-tvet-dakar", "cfp-dakar-apprenticeship-thies"]
    assert first["items"][1]["reasons"] == [
        "eligible",
        "not-accepting-referrals",
        "pathway-fallback",
        "speaks-language",
    ]
    for service_id, capacity in [(SERVICE, {"open_for_referrals": False}), (FALLBACK, {"open_for_referrals": True})]:
        current = await client.get(f"/v1/directory/services/{service_id}", headers=partner(token))
        updated = await client.put(
            f"/v1/directory/services/{service_id}/capacity",
            json=capacity | {"available_places": 5},
            headers=partner(token) | {"If-Match": current.headers["etag"]},
        )
        assert updated.status_code == 200, updated.text
    then = (await client.get("/v1/directory/suggestions", params=params, headers=berlin(token))).json()
    assert [i["service"]["id"] for i in then["items"]] == [FALLBACK, SERVICE]
    older = (await client.get("/v1/directory/suggestions", params=params | {"age": 40}, headers=berlin(token))).json()
    assert [i["service"]["id"] for i in older["items"]] == [SERVICE, FALLBACK]
    assert older["items"][1]["eligible"] is False  # the apprenticeships take people up to 35


async def test_an_hsds_export_loads_back_unchanged_and_a_bad_row_rejects_the_whole_document(
    client: httpx.AsyncClient, token: TokenFor, seeded: Seeded
) -> None:
    exported = await client.get(
        "/v1/directory/hsds/services", params={"organisation_id": "cfp-dakar"}, headers=partner(token)
    )
    rows = exported.json()["items"]
    assert [r["id"] for r in rows] == ["cfp-dakar-apprenticeship-thies", "cfp-dakar-business-start", SERVICE]
    assert rows[2]["attributes"] == [{"taxonomy_term": {"code": "tvet", "taxonomy": "casebridge-service-types"}}]
    assert rows[2]["capacities"][0]["available"] == 12
    again = await client.post("/v1/directory/hsds", json={"services": rows}, headers=partner(token))
    assert again.json() == {"services_received": 3, "services_changed": 0}

    events_before = await count(seeded.url, OutboxMessage)
    changed = rows[2] | {"name": "Vocational training in Dakar (renamed)"}
    foreign = rows[0] | {"organization_id": "de-berlin-psz"}
    bad_category = rows[1] | {"attributes": [{"taxonomy_term": {"code": "astrology"}}]}
    no_place = changed | {"id": "cfp-new", "service_at_locations": [{"location_id": "nowhere"}]}
    malformed = {"id": "Not An Id", "name": "x"}
    refused = await client.post(
        "/v1/directory/hsds",
        json={"services": [changed, foreign, bad_category, no_place, malformed]},
        headers=partner(token),
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "hsds-import-rejected"
    assert sorted({r["row"] for r in refused.json()["rejections"]}) == [1, 2, 3, 4]
    assert await count(seeded.url, OutboxMessage) == events_before
    kept = await client.get(f"/v1/directory/services/{SERVICE}", headers=partner(token))
    assert kept.json()["name"] == rows[2]["name"]

    renamed = await client.post("/v1/directory/hsds", json={"services": [changed]}, headers=partner(token))
    assert renamed.json() == {"services_received": 1, "services_changed": 1}
    assert await count(seeded.url, OutboxMessage) == events_before + 1


async def test_sending_without_consent_is_refused_with_consent_required_and_nothing_changes(
    client: httpx.AsyncClient, token: TokenFor, seeded: Seeded
) -> None:
    draft = await client.post(
        "/v1/referrals", json=referral_body(seeded, case_id=str(seeded.bare_case)), headers=berlin(token)
    )
    assert draft.json()["snapshot"]["shared_data_manifest"]["allowed"] == []
    events_before = await count(seeded.url, OutboxMessage)
    refused = await client.post(f"/v1/referrals/{draft.json()['id']}/send", headers=berlin(token) | {"If-Match": '"1"'})
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    body = refused.json()
    assert body["code"] == "consent-required"
    assert {e["category"]: e["reason"] for e in body["shared_data_manifest"]["withheld"]}["contact"] == "no-consent"
    assert await count(seeded.url, OutboxMessage) == events_before
    assert await count(seeded.url, Disclosure) == 0
    kept = await client.get(f"/v1/referrals/{draft.json()['id']}", headers=berlin(token))
    assert (kept.json()["status"], kept.headers["etag"]) == ("draft", '"1"')


async def test_a_send_lacking_a_category_the_pathway_requires_is_refused_with_the_missing_ones(
    client: httpx.AsyncClient, token: TokenFor, seeded: Seeded
) -> None:
    engine = create_async_engine(seeded.url)
    async with engine.begin() as conn:
        required = ["contact", "location"]
        await conn.execute(
            update(Pathway).where(col(Pathway.id) == "sn-tvet").values(required_consent_categories=required)
        )
    await engine.dispose()
    draft = (await client.post("/v1/referrals", json=referral_body(seeded), headers=berlin(token))).json()
    events_before = await count(seeded.url, OutboxMessage)
    refused = await client.post(f"/v1/referrals/{draft['id']}/send", headers=berlin(token) | {"If-Match": '"1"'})
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert (refused.json()["code"], refused.json()["missing_categories"]) == ("pathway-consent-required", ["location"])
    assert await count(seeded.url, OutboxMessage) == events_before
    assert await count(seeded.url, Disclosure) == 0


async def test_a_referral_names_its_fallback_and_an_unknown_one_is_refused(
    client: httpx.AsyncClient, token: TokenFor, seeded: Seeded
) -> None:
    unknown = await client.post(
        "/v1/referrals", json=referral_body(seeded, fallback_service_id="no-such-service"), headers=berlin(token)
    )
    assert (unknown.status_code, unknown.json()["code"]) == (422, "unknown-destination")
    assert await count(seeded.url, Referral) == 0
    draft = await client.post(
        "/v1/referrals", json=referral_body(seeded, fallback_service_id=FALLBACK), headers=berlin(token)
    )
    assert draft.status_code == 201
    body = draft.json()
    assert (body["fallback_service_id"], body["redirected_from_referral_id"], body["redirected_to_referral_id"]) == (
        FALLBACK,
        None,
        None,
    )


async def test_the_referring_office_alone_reads_what_was_disclosed_under_which_consent(
    client: httpx.AsyncClient, token: TokenFor, seeded: Seeded
) -> None:
    draft = (await client.post("/v1/referrals", json=referral_body(seeded), headers=berlin(token))).json()
    consent_id = str(seeded.consent_id)
    assert draft["snapshot"]["shared_data_manifest"]["allowed"] == [
        {"category": "contact", "class": "C2", "consent_id": consent_id},
        {"category": "identity_biodata", "class": "C2", "consent_id": consent_id},
    ]
    path = f"/v1/referrals/{draft['id']}"
    refreshed = await client.post(f"{path}/preview", headers=berlin(token) | {"If-Match": '"1"'})
    assert (refreshed.status_code, refreshed.headers["etag"]) == (200, '"2"')
    assert refreshed.json()["snapshot"] == draft["snapshot"]
    sent = await client.post(f"{path}/send", headers=berlin(token) | {"If-Match": '"2"'})
    assert sent.status_code == 200, sent.text
    assert sent.json()["snapshot"] == draft["snapshot"]  # the preview is what was sent
    again = await client.post(f"{path}/preview", headers=berlin(token) | {"If-Match": '"3"'})
    assert (again.status_code, again.json()["code"]) == (409, "illegal-referral-transition")

    ledger = await client.get(f"{path}/disclosures", headers=berlin(token))
    assert ledger.status_code == 200, ledger.text
    [entry] = ledger.json()["disclosures"]
    assert entry["recipient"] == {
        "office_id": None,
        "organisation_id": "cfp-dakar",
        "organisation_type": "tvet",
        "country": "SN",
    }
    assert (entry["purpose"], entry["categories"]) == ("referral_service_delivery", ["contact", "identity_biodata"])
    assert entry["consents"] == {"contact": consent_id, "identity_biodata": consent_id}
    assert ledger.json()["redactions"] == []
    destination = await client.get(f"{path}/disclosures", headers=partner(token))
    assert (destination.status_code, destination.json()["code"]) == (403, "not-referral-sender")
    erbil = bearer(token("iq-erbil-system", "referral-api", SEND))
    stranger = await client.get(f"{path}/disclosures", headers=erbil)
    assert (stranger.status_code, stranger.json()["code"]) == (404, "referral-not-found")


@pytest.mark.parametrize(
    ("withdrawn", "stored_reason"),
    [
        ([DataCategory.IDENTITY_BIODATA, DataCategory.CONTACT], None),  # nothing left: the sent copy is scrubbed
        ([DataCategory.CONTACT], "Training"),  # a part taken back: kept for the record, not shown to the destination
    ],
)
async def test_after_a_withdrawal_the_destination_no_longer_reads_the_reason_and_the_referring_office_does(
    client: httpx.AsyncClient, token: TokenFor, seeded: Seeded, withdrawn: list[DataCategory], stored_reason: str | None
) -> None:
    draft = (await client.post("/v1/referrals", json=referral_body(seeded), headers=berlin(token))).json()
    path = f"/v1/referrals/{draft['id']}"
    assert (await client.post(f"{path}/send", headers=berlin(token) | {"If-Match": '"1"'})).status_code == 200
    before = (await client.get(path, headers=partner(token))).json()
    assert (before["reason"], before["snapshot"]["shared"]["reason"], before["withheld"]) == (
        "Training",
        "Training",
        [],
    )

    engine = create_async_engine(seeded.url)
    sessions = session_factory(engine)
    async with ReferralUnitOfWork(sessions) as uow:
        linked = await uow.cases.get(seeded.berlin_case)
        assert linked is not None
        assert linked.beneficiary_id is not None
    withdrawal = ConsentWithdrawn(
        consent_id=seeded.consent_id,
        beneficiary_id=linked.beneficiary_id,
        case_ids=[seeded.berlin_case],
        owner_office_id="de-berlin",
        withdrawal_id=uuid4(),
        kind=WithdrawalKind.WITHDRAWN,
        superseded_by=None,
        withdrawn_scopes=[
            ScopeTerms(
                data_categories=withdrawn, purposes=[Purpose.REFERRAL_SERVICE_DELIVERY], organisations=["cfp-dakar"]
            )
        ],
        withdrawn_at=utc_now(),
        acknowledge_by=utc_now() + timedelta(hours=24),
    )
    await on_consent_withdrawn(
        CloudEvent.wrap(withdrawal, source="/casebridge/case-service"), ReferralUnitOfWork(sessions)
    )
    async with sessions() as session:
        stored = await session.get(Referral, UUID(draft["id"]))
        assert stored is not None
        shared = stored.snapshot["shared"]
        assert isinstance(shared, dict)
        assert (stored.reason, shared["reason"]) == ("Training", stored_reason)
    await engine.dispose()

    withheld = [
        {"field": "reason", "reason": "consent-withdrawn"},
        {"field": "snapshot.shared.reason", "reason": "consent-withdrawn"},
    ]
    destination = (await client.get(path, headers=partner(token))).json()
    assert destination["status"] == "consent_withdrawn"
    assert (destination["reason"], destination["snapshot"]["shared"]["reason"]) == (None, None)
    assert destination["withheld"] == withheld
    [listed] = (await client.get("/v1/referrals/inbox", headers=partner(token))).json()["items"]
    assert (listed["reason"], listed["withheld"]) == (None, withheld)
    origin = (await client.get(path, headers=berlin(token))).json()
    assert (origin["reason"], origin["snapshot"]["shared"]["reason"], origin["withheld"]) == (
        "Training",
        stored_reason,
        [],
    )


async def test_the_case_owner_pages_through_every_disclosure_of_the_case_and_others_get_404(
    client: httpx.AsyncClient, token: TokenFor, seeded: Seeded
) -> None:
    sent_ids = []
    for _ in range(2):
        draft = (await client.post("/v1/referrals", json=referral_body(seeded), headers=berlin(token))).json()
        sent = await client.post(f"/v1/referrals/{draft['id']}/send", headers=berlin(token) | {"If-Match": '"1"'})
        sent_ids.append(sent.json()["id"])
    params: dict[str, str | int] = {"case_id": str(seeded.berlin_case), "limit": 1}
    first = (await client.get("/v1/referrals/disclosures", params=params, headers=berlin(token))).json()
    second = (
        await client.get(
            "/v1/referrals/disclosures", params=params | {"cursor": first["next_cursor"]}, headers=berlin(token)
        )
    ).json()
    assert [d["referral_id"] for d in first["items"] + second["items"]] == sent_ids
    assert second["next_cursor"] is None
    assert {c for d in first["items"] for c in d["consents"].values()} == {str(seeded.consent_id)}
    erbil = bearer(token("iq-erbil-system", "referral-api", SEND))
    foreign = await client.get("/v1/referrals/disclosures", params={"case_id": str(seeded.berlin_case)}, headers=erbil)
    assert (foreign.status_code, foreign.json()["code"]) == (404, "case-not-found")


def _unzip(data: bytes) -> dict[str, list[dict[str, str]]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: list(csv.DictReader(io.StringIO(archive.read(name).decode()))) for name in archive.namelist()}


def _zip(tables: dict[str, list[dict[str, str]]], *, leave_out: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, rows in tables.items():
            if name == leave_out:
                continue
            text = io.StringIO()
            writer = csv.DictWriter(text, fieldnames=list(rows[0]) if rows else ["id"])
            writer.writeheader()
            writer.writerows(rows)
            archive.writestr(name, text.getvalue())
    return buffer.getvalue()


async def _export(client: httpx.AsyncClient, token: TokenFor) -> httpx.Response:
    return await client.get(
        "/v1/directory/hsds/tabular", params={"organisation_id": "cfp-dakar"}, headers=partner(token)
    )


async def _import(client: httpx.AsyncClient, token: TokenFor, archive: bytes) -> httpx.Response:
    headers = partner(token) | {"Content-Type": "application/zip"}
    return await client.post("/v1/directory/hsds/tabular", content=archive, headers=headers)


async def test_an_hsds_csv_export_loads_back_unchanged_and_a_changed_row_updates_the_service(
    client: httpx.AsyncClient, token: TokenFor, seeded: Seeded
) -> None:
    exported = await _export(client, token)
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "application/zip"
    tables = _unzip(exported.content)
    for name in ("organization.csv", "service.csv", "location.csv", "service_at_location.csv"):
        assert name in tables
    assert [r["id"] for r in tables["organization.csv"]] == ["cfp-dakar"]
    assert [r["id"] for r in tables["service.csv"]] == [FALLBACK, "cfp-dakar-business-start", SERVICE]
    assert {r["taxonomy_term_id"] for r in tables["attribute.csv"]} == {
        "casebridge-service-types:tvet",
        "casebridge-service-types:business_development_support",
    }
    events_before = await count(seeded.url, OutboxMessage)

    loaded = await _import(client, token, exported.content)
    assert loaded.status_code == 200, loaded.text
    assert loaded.json() == {
        "organisations_received": 1,
        "locations_received": len(tables["location.csv"]),
        "services_received": 3,
        "services_changed": 0,
    }
    assert await count(seeded.url, OutboxMessage) == events_before
    assert _unzip((await _export(client, token)).content) == tables  # the round trip is lossless

    tables["service.csv"][2]["name"] = "Vocational training, Dakar (evening classes)"
    tables["language.csv"] = [r for r in tables["language.csv"] if r["service_id"] != SERVICE] + [
        {"id": f"{SERVICE}:wo", "service_id": SERVICE, "name": "Wolof", "code": "wo"}
    ]
    changed = await _import(client, token, _zip(tables))
    assert changed.json()["services_changed"] == 1
    assert await count(seeded.url, OutboxMessage) == events_before + 1
    service = (await client.get(f"/v1/directory/services/{SERVICE}", headers=partner(token))).json()
    assert (service["name"], service["languages"]) == ("Vocational training, Dakar (evening classes)", ["wo"])


async def test_bad_hsds_csv_rows_reject_the_whole_archive_naming_file_row_and_column(
    client: httpx.AsyncClient, token: TokenFor, seeded: Seeded
) -> None:
    tables = _unzip((await _export(client, token)).content)
    original_name = tables["service.csv"][0]["name"]
    tables["service.csv"][0]["name"] = "Renamed, but the archive is bad"
    tables["service.csv"][1]["minimum_age"] = "abc"
    tables["language.csv"].append({"id": "stray", "service_id": "no-such-service", "name": "", "code": "fr"})
    tables["location.csv"][0]["organization_id"] = "de-berlin-psz"
    tables["attribute.csv"][0]["taxonomy_term_id"] = "casebridge-service-types:astrology"
    events_before = await count(seeded.url, OutboxMessage)

    refused = await _import(client, token, _zip(tables))
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "hsds-import-rejected"
    found = {(r["file"], r["row"], r["column"]) for r in refused.json()["rejections"]}
    assert found >= {
        ("service.csv", 3, "minimum_age"),
        ("language.csv", len(tables["language.csv"]) + 1, "service_id"),
        ("location.csv", 2, "organization_id"),
        ("attribute.csv", 2, "taxonomy_term_id"),
    }
    assert await count(seeded.url, OutboxMessage) == events_before
    kept = await client.get(f"/v1/directory/services/{tables['service.csv'][0]['id']}", headers=partner(token))
    assert kept.json()["name"] == original_name


async def test_an_hsds_csv_archive_without_a_required_file_or_not_a_zip_is_rejected(
    client: httpx.AsyncClient, token: TokenFor, seeded: Seeded
) -> None:
    tables = _unzip((await _export(client, token)).content)
    missing = await _import(client, token, _zip(tables, leave_out="service.csv"))
    assert (missing.status_code, missing.json()["rejections"]) == (
        422,
        [{"file": "service.csv", "row": None, "id": None, "column": None, "detail": "missing from the archive"}],
    )
    garbage = await _import(client, token, b"organization.csv,not,a,zip")
    assert (garbage.status_code, garbage.json()["rejections"][0]["detail"]) == (422, "not a zip archive")

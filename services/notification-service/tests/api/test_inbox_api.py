import base64
import json
import uuid
from datetime import UTC, date, datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casebridge_common.db import utc_now
from casebridge_common.events.contracts.case import CaseOpened, Programme
from casebridge_common.events.contracts.scoring import Administration, SurveyDue
from casebridge_common.events.envelope import CloudEvent
from casebridge_common.testing.plugin import RESOURCES, TokenFor, bearer
from casebridge_common.testing.tokens import authorization_code_token
from notification_service.consumers.events import on_event
from notification_service.domain.models import InboxKind
from notification_service.domain.rules import Notice
from notification_service.service_layer.inbox import deliver_notices
from notification_service.unit_of_work import NotificationUnitOfWork

Sessions = async_sessionmaker[AsyncSession]
RW = "inbox:read inbox:write"


def office(token: TokenFor, client_id: str = "de-berlin-system", scope: str = RW) -> dict[str, str]:
    return bearer(token(client_id, "notification-api", scope))


async def case_opened(seeded: Sessions, office_id: str = "de-berlin") -> uuid.UUID:
    opened = CaseOpened(
        case_id=uuid.uuid4(),
        case_version=1,
        beneficiary_id=uuid.uuid4(),
        programme=Programme.RETURN_REINTEGRATION,
        owner_office_id=office_id,
        owner_organisation_id="iom-germany",
        opened_at=datetime.now(UTC),
    )
    await on_event(CloudEvent.wrap(opened, source="/casebridge/case-service"), NotificationUnitOfWork(seeded))
    return opened.case_id


async def survey_due(seeded: Sessions, case_id: uuid.UUID) -> None:
    due = SurveyDue(
        survey_schedule_id=uuid.uuid4(),
        case_id=case_id,
        owner_office_id="de-berlin",
        administration=Administration.BASELINE,
        instrument="rss",
        due_on=date(2027, 1, 3),
    )
    await on_event(CloudEvent.wrap(due, source="/casebridge/scoring-service"), NotificationUnitOfWork(seeded))


async def test_the_inbox_lists_the_offices_items_newest_first_with_filters_and_cursor(
    client: httpx.AsyncClient, seeded: Sessions, token: TokenFor
) -> None:
    cases = [await case_opened(seeded) for _ in range(3)]
    await survey_due(seeded, cases[0])
    await case_opened(seeded, "iq-erbil")
    headers = office(token)
    first = await client.get("/v1/inbox", params={"limit": 2}, headers=headers)
    assert first.status_code == 200, first.text
    second = await client.get("/v1/inbox", params={"limit": 2, "cursor": first.json()["next_cursor"]}, headers=headers)
    items = first.json()["items"] + second.json()["items"]
    assert second.json()["next_cursor"] is None
    assert [i["kind"] for i in items] == ["survey_due", "case_opened", "case_opened", "case_opened"]
    assert {i["office_id"] for i in items} == {"de-berlin"}
    by_kind = await client.get("/v1/inbox", params={"kind": "survey_due"}, headers=headers)
    assert [i["case_id"] for i in by_kind.json()["items"]] == [str(cases[0])]
    by_case = await client.get("/v1/inbox", params={"case_id": str(cases[0])}, headers=headers)
    assert sorted(i["kind"] for i in by_case.json()["items"]) == ["case_opened", "survey_due"]
    replayed = await client.get(
        "/v1/inbox", params={"limit": 2, "kind": "case_opened", "cursor": first.json()["next_cursor"]}, headers=headers
    )
    assert (replayed.status_code, replayed.json()["code"]) == (400, "invalid-cursor")


async def test_marking_read_needs_if_match_and_lowers_the_unread_count(
    client: httpx.AsyncClient, seeded: Sessions, token: TokenFor
) -> None:
    case_id = await case_opened(seeded)
    await survey_due(seeded, case_id)
    headers = office(token)
    counts = await client.get("/v1/inbox/unread-counts", headers=headers)
    assert counts.json() == {"total": 2, "by_kind": {"case_opened": 1, "survey_due": 1}}
    [item] = (await client.get("/v1/inbox", params={"kind": "case_opened"}, headers=headers)).json()["items"]
    url = f"/v1/inbox/{item['id']}"
    missing = await client.patch(url, json={"read": True}, headers=headers)
    assert (missing.status_code, missing.json()["code"]) == (428, "if-match-required")
    stale = await client.patch(url, json={"read": True}, headers={**headers, "If-Match": '"7"'})
    assert (stale.status_code, stale.json()["code"]) == (412, "version-mismatch")
    etag = (await client.get(url, headers=headers)).headers["ETag"]
    read = await client.patch(url, json={"read": True}, headers={**headers, "If-Match": etag})
    assert read.status_code == 200, read.text
    assert read.json()["read_at"] is not None
    assert read.headers["ETag"] == '"2"'
    counts = await client.get("/v1/inbox/unread-counts", headers=headers)
    assert counts.json() == {"total": 1, "by_kind": {"survey_due": 1}}
    unread = await client.patch(url, json={"read": False}, headers={**headers, "If-Match": '"2"'})
    assert unread.json()["read_at"] is None
    assert (await client.get("/v1/inbox/unread-counts", headers=headers)).json()["total"] == 2
    unread_only = await client.get("/v1/inbox", params={"unread": "true"}, headers=headers)
    assert len(unread_only.json()["items"]) == 2


async def test_an_archived_item_leaves_the_inbox_and_appears_in_the_archive(
    client: httpx.AsyncClient, seeded: Sessions, token: TokenFor
) -> None:
    case_id = await case_opened(seeded)
    headers = office(token)
    [item] = (await client.get("/v1/inbox", params={"case_id": str(case_id)}, headers=headers)).json()["items"]
    archived = await client.patch(
        f"/v1/inbox/{item['id']}", json={"archived": True}, headers={**headers, "If-Match": '"1"'}
    )
    assert archived.status_code == 200, archived.text
    assert (await client.get("/v1/inbox", headers=headers)).json()["items"] == []
    archive = await client.get("/v1/inbox", params={"archived": "true"}, headers=headers)
    assert [i["id"] for i in archive.json()["items"]] == [item["id"]]
    assert (await client.get("/v1/inbox/unread-counts", headers=headers)).json()["total"] == 0


async def test_an_empty_or_unknown_patch_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, seeded: Sessions, token: TokenFor
) -> None:
    case_id = await case_opened(seeded)
    headers = {**office(token), "If-Match": '"1"'}
    [item] = (await client.get("/v1/inbox", params={"case_id": str(case_id)}, headers=headers)).json()["items"]
    for body in ({}, {"read": True, "starred": True}):
        response = await client.patch(f"/v1/inbox/{item['id']}", json=body, headers=headers)
        assert (response.status_code, response.json()["code"]) == (422, "validation-error")
    assert (await client.get(f"/v1/inbox/{item['id']}", headers=headers)).json()["version"] == 1


async def test_another_offices_item_is_404_to_read_and_to_change(
    client: httpx.AsyncClient, seeded: Sessions, token: TokenFor
) -> None:
    case_id = await case_opened(seeded)
    [item] = (await client.get("/v1/inbox", params={"case_id": str(case_id)}, headers=office(token))).json()["items"]
    erbil = office(token, "iq-erbil-system")
    for response in (
        await client.get(f"/v1/inbox/{item['id']}", headers=erbil),
        await client.patch(f"/v1/inbox/{item['id']}", json={"read": True}, headers={**erbil, "If-Match": '"1"'}),
    ):
        assert (response.status_code, response.json()["code"]) == (404, "inbox-item-not-found")
    assert (await client.get("/v1/inbox", headers=erbil)).json()["items"] == []


async def test_reading_needs_inbox_read_and_changing_needs_inbox_write(
    client: httpx.AsyncClient, seeded: Sessions, token: TokenFor
) -> None:
    case_id = await case_opened(seeded)
    read_only = office(token, scope="inbox:read")
    [item] = (await client.get("/v1/inbox", params={"case_id": str(case_id)}, headers=read_only)).json()["items"]
    refused = await client.patch(
        f"/v1/inbox/{item['id']}", json={"read": True}, headers={**read_only, "If-Match": '"1"'}
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "insufficient-scope")
    assert (await client.get("/v1/inbox")).status_code == 401


async def test_the_delta_feed_returns_new_items_and_state_changes_since_the_cursor(
    client: httpx.AsyncClient, seeded: Sessions, token: TokenFor
) -> None:
    headers = office(token)
    first_case, second_case = await case_opened(seeded), await case_opened(seeded)
    full = await client.get("/v1/inbox/changes", params={"limit": 1}, headers=headers)
    assert full.json()["has_more"] is True
    rest = await client.get("/v1/inbox/changes", params={"since": full.json()["next_cursor"]}, headers=headers)
    assert [i["case_id"] for i in full.json()["items"] + rest.json()["items"]] == [str(first_case), str(second_case)]
    assert rest.json()["has_more"] is False
    cursor = rest.json()["next_cursor"]
    quiet = await client.get("/v1/inbox/changes", params={"since": cursor}, headers=headers)
    assert (quiet.json()["items"], quiet.json()["next_cursor"]) == ([], cursor)

    first_item = full.json()["items"][0]
    await client.patch(f"/v1/inbox/{first_item['id']}", json={"read": True}, headers={**headers, "If-Match": '"1"'})
    third_case = await case_opened(seeded)
    await client.patch(f"/v1/inbox/{first_item['id']}", json={"archived": True}, headers={**headers, "If-Match": '"2"'})
    delta = (await client.get("/v1/inbox/changes", params={"since": cursor}, headers=headers)).json()
    assert [(i["case_id"], i["read_at"] is not None, i["archived_at"] is not None) for i in delta["items"]] == [
        (str(third_case), False, False),
        (str(first_case), True, True),
    ]
    erbil = office(token, "iq-erbil-system")
    foreign = await client.get("/v1/inbox/changes", params={"since": cursor}, headers=erbil)
    assert (foreign.status_code, foreign.json()["code"]) == (400, "invalid-cursor")


def _subject(raw_token: str) -> str:
    payload = raw_token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"])


@pytest.fixture(scope="module")
def anna(oidc_issuer: str) -> str:
    return authorization_code_token(oidc_issuer, "anna.schmidt", resource=RESOURCES["notification-api"], scope=RW)


@pytest.fixture(scope="module")
def jonas(oidc_issuer: str) -> str:
    return authorization_code_token(oidc_issuer, "jonas.weber", resource=RESOURCES["notification-api"], scope=RW)


async def test_a_user_sees_the_offices_items_and_their_own_but_not_a_colleagues(
    client: httpx.AsyncClient, seeded: Sessions, token: TokenFor, anna: str, jonas: str
) -> None:
    case_id = await case_opened(seeded)
    async with NotificationUnitOfWork(seeded) as uow:
        await deliver_notices(
            uow,
            [
                Notice(
                    kind=InboxKind.SURVEY_DUE,
                    title="Baseline rss survey due by 2027-01-03",
                    case_id=case_id,
                    office_id="de-berlin",
                    recipient_subject=_subject(anna),
                )
            ],
            source_event_id="personal-1",
            now=utc_now(),
        )
        await uow.commit()
    params = {"case_id": str(case_id)}
    mine = (await client.get("/v1/inbox", params=params, headers=bearer(anna))).json()["items"]
    assert sorted(i["kind"] for i in mine) == ["case_opened", "survey_due"]
    colleague = (await client.get("/v1/inbox", params=params, headers=bearer(jonas))).json()["items"]
    assert [i["kind"] for i in colleague] == ["case_opened"]
    system = (await client.get("/v1/inbox", params=params, headers=office(token))).json()["items"]
    assert [i["kind"] for i in system] == ["case_opened"]
    personal = next(i for i in mine if i["kind"] == "survey_due")
    hidden = await client.get(f"/v1/inbox/{personal['id']}", headers=bearer(jonas))
    assert hidden.status_code == 404
    assert (await client.get("/v1/inbox/unread-counts", headers=bearer(anna))).json()["total"] == 2

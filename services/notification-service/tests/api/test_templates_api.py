import httpx
import pytest

from casebridge_common.testing.plugin import TokenFor, bearer

URL = "/v1/inbox/templates/case_opened/fr"
EDIT = {"subject": "Dossier {{ case_id }}", "text": "Ouvert : {{ programme }}\nDossier : {{ case_id }}"}


def office(
    token: TokenFor, client_id: str = "de-berlin-system", scope: str = "inbox:read inbox:write"
) -> dict[str, str]:
    return bearer(token(client_id, "notification-api", scope))


async def test_an_unedited_template_reads_as_the_shipped_one_at_version_zero(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    response = await client.get(URL, headers=office(token))
    assert response.status_code == 200, response.text
    assert (response.json()["subject"], response.headers["ETag"]) == ("Nouveau dossier ouvert", '"0"')
    assert response.json()["placeholders"] == ["case_id", "programme", "title"]


async def test_editing_a_template_needs_if_match_and_belongs_to_the_office(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    assert (await client.put(URL, json=EDIT, headers=office(token))).status_code == 428
    stored = await client.put(URL, json=EDIT, headers={**office(token), "If-Match": '"0"'})
    assert stored.status_code == 200, stored.text
    assert (stored.json()["subject"], stored.headers["ETag"]) == (EDIT["subject"], '"1"')
    stale = await client.put(URL, json=EDIT, headers={**office(token), "If-Match": '"0"'})
    assert (stale.status_code, stale.json()["code"]) == (412, "version-mismatch")
    assert (await client.get(URL, headers=office(token))).json()["text"] == EDIT["text"]
    other = await client.get(URL, headers=office(token, "sn-dakar-system"))
    assert other.json()["version"] == 0
    assert (await client.get("/v1/inbox/templates/case_opened/en", headers=office(token))).json()["version"] == 0


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"subject": "{{ case_id", "text": "ok"}, "template-syntax-error"),
        ({"subject": "ok", "text": "{% if programme %}"}, "template-syntax-error"),
        ({"subject": "ok", "text": "{{ full_name }}"}, "unknown-template-placeholder"),
        ({"subject": "", "text": "ok"}, "validation-error"),
        ({"subject": "ok"}, "validation-error"),
    ],
)
async def test_invalid_templates_are_refused_and_store_nothing(
    client: httpx.AsyncClient, token: TokenFor, body: dict[str, object], code: str
) -> None:
    response = await client.put(URL, json=body, headers={**office(token), "If-Match": '"0"'})
    assert (response.status_code, response.json()["code"]) == (422, code)
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (await client.get(URL, headers=office(token))).json()["version"] == 0


async def test_unknown_kinds_and_languages_are_refused(client: httpx.AsyncClient, token: TokenFor) -> None:
    for url in ("/v1/inbox/templates/birthday/fr", "/v1/inbox/templates/case_opened/de"):
        response = await client.put(url, json=EDIT, headers={**office(token), "If-Match": '"0"'})
        assert (response.status_code, response.json()["code"]) == (422, "validation-error")


async def test_editing_a_template_needs_inbox_write(client: httpx.AsyncClient, token: TokenFor) -> None:
    response = await client.put(URL, json=EDIT, headers={**office(token, scope="inbox:read"), "If-Match": '"0"'})
    assert (response.status_code, response.json()["code"]) == (403, "insufficient-scope")

import httpx
import pytest

from casebridge_common.testing.plugin import RESOURCES, TokenFor, bearer
from casebridge_common.testing.tokens import authorization_code_token

URL = "/v1/inbox/preferences"
EMAIL = {"channels": ["email"], "email_address": "berlin@iom.example", "language": "fr", "timezone": "Europe/Berlin"}


def office(token: TokenFor, scope: str = "inbox:read inbox:write") -> dict[str, str]:
    return bearer(token("de-berlin-system", "notification-api", scope))


@pytest.fixture(scope="module")
def anna(oidc_issuer: str) -> dict[str, str]:
    return bearer(
        authorization_code_token(
            oidc_issuer, "anna.schmidt", resource=RESOURCES["notification-api"], scope="inbox:read inbox:write"
        )
    )


async def test_unset_preferences_read_as_the_inbox_only_at_version_zero(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    response = await client.get(URL, headers=office(token))
    assert response.status_code == 200, response.text
    assert (response.json()["channels"], response.headers["ETag"]) == (["inbox"], '"0"')


async def test_setting_preferences_needs_if_match_and_keeps_the_inbox_on(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    assert (await client.put(URL, json=EMAIL, headers=office(token))).status_code == 428
    stored = await client.put(URL, json=EMAIL, headers={**office(token), "If-Match": '"0"'})
    assert stored.status_code == 200, stored.text
    assert stored.json()["channels"] == ["email", "inbox"]
    assert (stored.json()["language"], stored.headers["ETag"]) == ("fr", '"1"')
    stale = await client.put(URL, json=EMAIL, headers={**office(token), "If-Match": '"0"'})
    assert (stale.status_code, stale.json()["code"]) == (412, "version-mismatch")
    assert (await client.get(URL, headers=office(token))).json()["timezone"] == "Europe/Berlin"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"channels": ["email"]}, "email-address-required"),
        ({**EMAIL, "timezone": "Mars/Olympus_Mons"}, "unknown-timezone"),
        ({**EMAIL, "email_address": "not-an-address"}, "validation-error"),
        ({**EMAIL, "language": "de"}, "validation-error"),
        ({**EMAIL, "quiet_hours_start": "22:00:00"}, "validation-error"),
        ({**EMAIL, "quiet_hours_start": 3600}, "validation-error"),  # not 01:00
        ({**EMAIL, "channels": ["pigeon"]}, "validation-error"),
        ({**EMAIL, "channels": ["sms"]}, "phone-number-required"),
        ({**EMAIL, "channels": ["sms"], "phone_number": "0151 123"}, "validation-error"),
    ],
)
async def test_invalid_preferences_are_refused_and_store_nothing(
    client: httpx.AsyncClient, token: TokenFor, body: dict[str, object], code: str
) -> None:
    response = await client.put(URL, json=body, headers={**office(token), "If-Match": '"0"'})
    assert (response.status_code, response.json()["code"]) == (422, code)
    assert (await client.get(URL, headers=office(token))).json()["version"] == 0


async def test_a_users_preferences_are_their_own(
    client: httpx.AsyncClient, token: TokenFor, anna: dict[str, str]
) -> None:
    mine = await client.put(URL, json={**EMAIL, "language": "ar"}, headers={**anna, "If-Match": '"0"'})
    assert mine.status_code == 200, mine.text
    assert (await client.get(URL, headers=office(token))).json()["version"] == 0
    assert (await client.get(URL, headers=anna)).json()["language"] == "ar"


async def test_changing_preferences_needs_inbox_write(client: httpx.AsyncClient, token: TokenFor) -> None:
    response = await client.put(URL, json=EMAIL, headers={**office(token, "inbox:read"), "If-Match": '"0"'})
    assert (response.status_code, response.json()["code"]) == (403, "insufficient-scope")


async def test_the_sms_channel_keeps_its_phone_number(client: httpx.AsyncClient, token: TokenFor) -> None:
    body = {**EMAIL, "channels": ["sms", "email"], "phone_number": "+221771234567"}
    stored = await client.put(URL, json=body, headers={**office(token), "If-Match": '"0"'})
    assert stored.status_code == 200, stored.text
    assert (stored.json()["channels"], stored.json()["phone_number"]) == (["email", "inbox", "sms"], "+221771234567")

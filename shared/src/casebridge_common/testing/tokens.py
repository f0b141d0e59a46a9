"""Access tokens from the local development OIDC provider (``deploy/local/oidc``), for tests and demos.

Two ways in, both returning the raw JWT access token for one resource server (``resource`` is its
indicator, e.g. ``urn:casebridge:case-api``; the token's ``aud`` is then ``case-api``):

* :func:`client_credentials_token` - a confidential system client (``de-berlin-system``, ...).
* :func:`authorization_code_token` - a demo user (``anna.schmidt``, ...) through the public mobile client:
  the full authorization-code + PKCE (S256) flow, browserless. It follows the provider's built-in
  development login and consent pages (``devInteractions``) as a browser would: keeps cookies, fills the
  forms, stops at the redirect to ``redirect_uri`` and exchanges the code with the ``code_verifier``.

Only for the local development provider: its login page accepts any password for a known demo account and
refuses unknown account names (the flow then ends with ``error=access_denied``).
"""

import base64
import hashlib
import secrets
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Final
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

DEMO_SECRET_SUFFIX: Final = "-localdev-secret"  # noqa: S105 - public local-development default, not a secret
MOBILE_CLIENT_ID: Final = "casebridge-mobile"
MOBILE_REDIRECT_URI: Final = "http://127.0.0.1:8765/callback"
# devInteractions ignores the password; any non-empty value works.
DEV_PASSWORD: Final = "localdev"  # noqa: S105 - local-development login only

_MAX_STEPS: Final = 20
_BODY_EXCERPT: Final = 2000


def demo_client_secret(client_id: str) -> str:
    """The local-development default secret of a demo confidential client: ``<client_id>-localdev-secret``."""
    return f"{client_id}{DEMO_SECRET_SUFFIX}"


class TokenRequestError(RuntimeError):
    """The provider refused a request; ``status_code`` and ``body`` hold its answer."""

    def __init__(self, message: str, *, status_code: int | None = None, body: str = "") -> None:
        detail = f" (HTTP {status_code})" if status_code is not None else ""
        excerpt = f": {body[:_BODY_EXCERPT]}" if body else ""
        super().__init__(f"{message}{detail}{excerpt}")
        self.status_code = status_code
        self.body = body


class AuthorizationDeniedError(TokenRequestError):
    """The authorization request ended with an OAuth error at the redirect URI (e.g. unknown account)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"authorization failed: {error}: {description}")
        self.error = error
        self.description = description


@dataclass(frozen=True, slots=True)
class TokenSet:
    """A successful token endpoint response."""

    access_token: str
    token_type: str
    expires_in: int | None
    scope: str
    refresh_token: str | None
    id_token: str | None


def _token_set(response: httpx.Response, what: str) -> TokenSet:
    if response.status_code != 200:
        raise TokenRequestError(f"{what}: token request refused", status_code=response.status_code, body=response.text)
    try:
        data = response.json()
        access_token = data["access_token"]
    except (ValueError, KeyError, TypeError) as exc:
        raise TokenRequestError(
            f"{what}: malformed token response", status_code=response.status_code, body=response.text
        ) from exc
    if not isinstance(access_token, str) or not access_token:
        raise TokenRequestError(f"{what}: empty access_token", status_code=response.status_code, body=response.text)
    expires_in = data.get("expires_in")
    return TokenSet(
        access_token=access_token,
        token_type=str(data.get("token_type", "")),
        expires_in=int(expires_in) if expires_in is not None else None,
        scope=str(data.get("scope") or ""),
        refresh_token=data.get("refresh_token"),
        id_token=data.get("id_token"),
    )


def _discovery(http: httpx.Client, issuer: str) -> dict[str, object]:
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = http.get(url)
    except httpx.HTTPError as exc:
        raise TokenRequestError(f"cannot reach the OIDC provider at {url}: {exc}") from exc
    if response.status_code != 200:
        raise TokenRequestError(f"discovery failed at {url}", status_code=response.status_code, body=response.text)
    doc: dict[str, object] = response.json()
    if doc.get("issuer") != issuer.rstrip("/"):
        raise TokenRequestError(f"discovery at {url} names issuer {doc.get('issuer')!r}, expected {issuer!r}")
    return doc


def _endpoint(doc: dict[str, object], name: str) -> str:
    value = doc.get(name)
    if not isinstance(value, str):
        raise TokenRequestError(f"discovery document has no {name}")
    return value


def client_credentials_token(issuer: str, client_id: str, client_secret: str, *, resource: str, scope: str) -> str:
    """Access token for a confidential client (HTTP Basic client authentication, client_credentials grant).

    ``resource`` is required by the provider and must be one indicator; scopes outside that resource are
    dropped silently, scopes the client may not hold make the request fail (``invalid_scope``).
    """
    with httpx.Client(timeout=10.0) as http:
        token_endpoint = _endpoint(_discovery(http, issuer), "token_endpoint")
        response = http.post(
            token_endpoint,
            auth=(client_id, client_secret),
            data={"grant_type": "client_credentials", "resource": resource, "scope": scope},
        )
        return _token_set(response, f"client_credentials for {client_id}").access_token


@dataclass(slots=True)
class _Form:
    action: str
    method: str
    fields: dict[str, str]


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[_Form] = []
        self._current: _Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._current = _Form(action=attr.get("action", ""), method=attr.get("method", "get").lower(), fields={})
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None and attr.get("name"):
            self._current.fields[attr["name"]] = attr.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def _forms(html: str) -> list[_Form]:
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


def _same_endpoint(url: str, redirect_uri: str) -> bool:
    a, b = urlsplit(url), urlsplit(redirect_uri)
    return (a.scheme, a.netloc, a.path) == (b.scheme, b.netloc, b.path)


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)  # 86 chars of [A-Za-z0-9_-], within RFC 7636's 43..128
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _authorization_code(
    http: httpx.Client,
    authorization_endpoint: str,
    issuer: str,
    username: str,
    *,
    params: dict[str, str],
    redirect_uri: str,
) -> str:
    """Drive the authorization request through the dev login and consent pages; return the code."""
    state = params["state"]
    logins = 0
    response = http.get(authorization_endpoint, params=params)
    for _ in range(_MAX_STEPS):
        url = str(response.url)
        if response.is_redirect:
            location = urljoin(url, response.headers["location"])
            if _same_endpoint(location, redirect_uri):
                query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
                if "error" in query:
                    raise AuthorizationDeniedError(query["error"], query.get("error_description", ""))
                if query.get("state") != state:
                    raise TokenRequestError(f"authorization response state mismatch: {location}")
                if "iss" in query and query["iss"] != issuer.rstrip("/"):
                    raise TokenRequestError(f"authorization response from unexpected issuer {query['iss']!r}")
                if "code" not in query:
                    raise TokenRequestError(f"authorization response without code: {location}")
                return query["code"]
            response = http.get(location)
            continue
        if response.status_code != 200:
            raise TokenRequestError("authorization flow failed", status_code=response.status_code, body=response.text)
        forms = [f for f in _forms(response.text) if f.method == "post" and f.fields.get("prompt")]
        if not forms:
            raise TokenRequestError(f"no login/consent form at {url}", status_code=200, body=response.text)
        form = forms[0]
        fields = dict(form.fields)
        if fields["prompt"] == "login":
            logins += 1
            if logins > 1:
                raise AuthorizationDeniedError("login_required", f"the provider did not accept the login {username!r}")
            fields.update(login=username, password=DEV_PASSWORD)
        elif fields["prompt"] != "consent":
            raise TokenRequestError(f"unexpected interaction prompt {fields['prompt']!r} at {url}")
        response = http.post(urljoin(url, form.action or url), data=fields)
    raise TokenRequestError(f"authorization flow did not reach {redirect_uri} within {_MAX_STEPS} steps")


def authorization_code_tokens(
    issuer: str,
    username: str,
    *,
    resource: str,
    scope: str,
    client_id: str = MOBILE_CLIENT_ID,
    redirect_uri: str = MOBILE_REDIRECT_URI,
) -> TokenSet:
    """Like :func:`authorization_code_token` but returns the whole token response (refresh/id token too).

    The request carries ``prompt=consent``: the provider grants ``offline_access`` (a refresh token) only
    then. A refresh token is returned when ``scope`` includes ``offline_access``; an ID token when it
    includes ``openid``.
    """
    verifier, challenge = _pkce_pair()
    params = {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": scope,
        "resource": resource,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": secrets.token_urlsafe(16),
        "prompt": "consent",
    }
    if "openid" in scope.split():
        params["nonce"] = secrets.token_urlsafe(16)
    with httpx.Client(timeout=10.0, follow_redirects=False) as http:
        doc = _discovery(http, issuer)
        code = _authorization_code(
            http, _endpoint(doc, "authorization_endpoint"), issuer, username, params=params, redirect_uri=redirect_uri
        )
        response = http.post(
            _endpoint(doc, "token_endpoint"),
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": client_id,
                "code_verifier": verifier,
                "resource": resource,
            },
        )
        return _token_set(response, f"authorization_code for {username}")


def authorization_code_token(
    issuer: str,
    username: str,
    *,
    resource: str,
    scope: str,
    client_id: str = MOBILE_CLIENT_ID,
    redirect_uri: str = MOBILE_REDIRECT_URI,
) -> str:
    """Access token for a demo user, through authorization code + PKCE (S256) with the dev login pages.

    Raises :class:`AuthorizationDeniedError` when the provider refuses the login (unknown account) or the
    request, :class:`TokenRequestError` for any other failure.
    """
    return authorization_code_tokens(
        issuer, username, resource=resource, scope=scope, client_id=client_id, redirect_uri=redirect_uri
    ).access_token


def refresh_tokens(
    issuer: str,
    refresh_token: str,
    *,
    resource: str,
    scope: str | None = None,
    client_id: str = MOBILE_CLIENT_ID,
) -> TokenSet:
    """Exchange a refresh token (public client) for a new access token for ``resource``.

    The refresh token rotates: use the returned one next time. ``scope`` may only narrow the granted scopes.
    """
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id, "resource": resource}
    if scope is not None:
        data["scope"] = scope
    with httpx.Client(timeout=10.0) as http:
        response = http.post(_endpoint(_discovery(http, issuer), "token_endpoint"), data=data)
        return _token_set(response, f"refresh_token for {client_id}")

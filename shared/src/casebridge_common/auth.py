"""OAuth2 resource server: bearer JWTs checked against the issuer's JWKS, turned into a :class:`Principal`.

Signature (RS256/PS256/ES256 only, never ``none`` or HMAC), issuer, audience, expiry and not-before are all
checked. The JWKS comes from OIDC discovery, is cached, refreshed on a timer and reloaded once when a token
names an unknown ``kid`` (key rotation), at most once per ``min_reload_s`` so junk tokens cannot hammer the IdP.
"""

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import httpx
from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, SecurityScopes
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from casebridge_common.problems import Forbidden, ServiceUnavailable, Unauthorized

ALLOWED_ALGORITHMS = ["RS256", "PS256", "ES256"]
LEEWAY_S = 30


class Scope(StrEnum):
    """Every OAuth2 scope the platform knows (`resource:action`); the IdP's resource servers grant them."""

    CASES_READ = "cases:read"
    CASES_WRITE = "cases:write"
    CASES_ADMIN = "cases:admin"
    CASES_SENSITIVE_READ = "cases.sensitive:read"
    CONSENTS_WRITE = "consents:write"
    AUDIT_READ = "audit:read"
    REFERRALS_READ = "referrals:read"
    REFERRALS_SEND = "referrals:send"
    REFERRALS_RESPOND = "referrals:respond"
    DIRECTORY_READ = "directory:read"
    DIRECTORY_WRITE = "directory:write"
    SURVEYS_READ = "surveys:read"
    SURVEYS_SUBMIT = "surveys:submit"
    SCORES_READ = "scores:read"
    AGGREGATES_READ = "aggregates:read"
    INSTRUMENTS_WRITE = "instruments:write"
    INBOX_READ = "inbox:read"
    INBOX_WRITE = "inbox:write"
    SUBSCRIPTIONS_READ = "subscriptions:read"
    SUBSCRIPTIONS_WRITE = "subscriptions:write"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling. Claim names are mapped only here; the IdP configuration must match them."""

    subject: str
    client_id: str
    organisation_id: str | None
    office_id: str | None
    country: str | None
    scopes: frozenset[str]
    roles: frozenset[str]

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> "Principal":
        roles = claims.get("roles") or []
        return cls(
            subject=str(claims["sub"]),
            client_id=str(claims.get("client_id") or claims.get("azp") or claims["sub"]),
            organisation_id=claims.get("org_id"),
            office_id=claims.get("office_id"),
            country=claims.get("country"),
            scopes=frozenset(str(claims.get("scope") or "").split()),
            roles=frozenset(str(r) for r in roles) if isinstance(roles, list) else frozenset(),
        )


class InvalidToken(Unauthorized):
    code, title = "invalid-token", "The access token is missing, malformed, expired or not for this API"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer error="invalid_token"'}


class MissingToken(Unauthorized):
    code, title = "token-required", "This endpoint needs a bearer access token"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class InsufficientScope(Forbidden):
    code, title = "insufficient-scope", "The access token lacks a required scope"

    def headers(self) -> dict[str, str]:
        required = self.context.get("required_scopes", [])
        needed = " ".join(str(s) for s in required) if isinstance(required, list) else ""
        return {"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{needed}"'}


class OfficeClaimRequired(Forbidden):
    code, title = "office-claim-required", "This endpoint acts for an office; the token carries no office"


class IdentityProviderUnavailable(ServiceUnavailable):
    code, title = "identity-provider-unavailable", "The identity provider's keys could not be loaded"


KeyLoader = Callable[[], Awaitable[KeySet]]


class JwksCache:
    """The issuer's key set, loaded through discovery and kept fresh."""

    def __init__(self, load: KeyLoader, *, refresh_s: float = 600, min_reload_s: float = 10) -> None:
        self._load = load
        self._refresh_s, self._min_reload_s = refresh_s, min_reload_s
        self._keys: KeySet | None = None
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()

    async def keys(self, *, force: bool = False) -> KeySet:
        age = time.monotonic() - self._loaded_at
        if self._keys is not None and age < self._refresh_s and not (force and age >= self._min_reload_s):
            return self._keys
        async with self._lock:
            age = time.monotonic() - self._loaded_at
            if self._keys is None or age >= self._refresh_s or (force and age >= self._min_reload_s):
                try:
                    self._keys = await self._load()
                except (httpx.HTTPError, ValueError) as exc:
                    if self._keys is None:
                        raise IdentityProviderUnavailable(str(exc)) from exc
                self._loaded_at = time.monotonic()
        assert self._keys is not None  # noqa: S101 - set above or raised
        return self._keys


def discovery_key_loader(issuer: str, client: httpx.AsyncClient) -> KeyLoader:
    """Load the JWKS from `{issuer}/.well-known/openid-configuration` → `jwks_uri`."""

    async def load() -> KeySet:
        discovery = await client.get(issuer.rstrip("/") + "/.well-known/openid-configuration")
        discovery.raise_for_status()
        jwks = await client.get(discovery.json()["jwks_uri"])
        jwks.raise_for_status()
        return KeySet.import_key_set(jwks.json())

    return load


class TokenVerifier:
    """Checks a bearer token's signature and claims. A token that passed is remembered (by its exact text, up
    to ``cache_size`` tokens) until it expires, so a client's next requests skip the signature check; expiry
    is still checked on every use. Like any JWT it cannot be revoked before ``exp`` (tokens are short-lived)."""

    def __init__(
        self,
        jwks: JwksCache,
        *,
        issuer: str,
        audience: str,
        now: Callable[[], int] | None = None,
        cache_size: int = 4096,
    ) -> None:
        self._jwks = jwks
        self._now = now or (lambda: int(time.time()))
        self._verified: OrderedDict[str, tuple[Principal, int]] = OrderedDict()
        self._cache_size = cache_size
        self._claims = jwt.JWTClaimsRegistry(
            now=now,
            leeway=LEEWAY_S,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            sub={"essential": True},
            exp={"essential": True},
        )

    async def verify(self, raw: str) -> Principal:
        remembered = self._verified.get(raw)
        if remembered is not None:
            principal, expires_at = remembered
            if self._now() < expires_at:
                self._verified.move_to_end(raw)
                return principal
            del self._verified[raw]
        principal, expires_at = await self._check(raw)
        self._verified[raw] = (principal, expires_at)
        if len(self._verified) > self._cache_size:
            self._verified.popitem(last=False)
        return principal

    async def _check(self, raw: str) -> tuple[Principal, int]:
        try:
            try:
                token = jwt.decode(raw, await self._jwks.keys(), algorithms=ALLOWED_ALGORITHMS)
            except InvalidKeyIdError:
                token = jwt.decode(raw, await self._jwks.keys(force=True), algorithms=ALLOWED_ALGORITHMS)
            self._claims.validate(token.claims)
        except (JoseError, ValueError) as exc:
            raise InvalidToken(f"token rejected: {exc}") from exc
        # the registry accepted exp within the leeway; remember the token no longer than it would accept it
        return Principal.from_claims(token.claims), int(token.claims["exp"]) + LEEWAY_S


_bearer = HTTPBearer(auto_error=False)


async def _principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None, required: Iterable[str]
) -> Principal:
    """401 without a valid token, 403 when a required scope is missing."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise MissingToken()
    verifier: TokenVerifier = request.state.token_verifier
    principal = await verifier.verify(credentials.credentials)
    missing = sorted(set(required) - principal.scopes)
    if missing:
        raise InsufficientScope(f"missing scope(s): {' '.join(missing)}", required_scopes=missing)
    return principal


async def authenticate(
    required: SecurityScopes,
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
) -> Principal:
    """FastAPI security dependency: 401 without a valid token, 403 when a required scope is missing."""
    return await _principal(request, credentials, required.scopes)


def require_office(principal: Principal) -> Principal:
    """For endpoints that act for an office: a partner client's organisation-only token is refused."""
    if not principal.office_id:
        raise OfficeClaimRequired()
    return principal


AnyPrincipal = Annotated[Principal, Depends(authenticate)]


class _ScopedBearer(HTTPBearer):
    """A route's security dependency: the bearer scheme (so OpenAPI documents it, with the route's scopes, as
    the plain scheme) that also verifies the token and its scopes in the same call. One dependency instead of
    one on the scheme and one on top: FastAPI's dependency solving costs every request per level."""

    def __init__(self, scopes: list[str], *, office: bool) -> None:
        super().__init__(scheme_name=_bearer.scheme_name, auto_error=False)
        self._scopes, self._office = scopes, office

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        principal = await _principal(request, await super().__call__(request), self._scopes)
        return require_office(principal) if self._office else principal


def requires(*scopes: Scope, office: bool = False) -> Any:
    """A dependency for routes: these scopes, and (``office=True``) a token that acts for an office."""
    names = [str(s) for s in scopes]
    return Security(_ScopedBearer(names, office=office), scopes=names)

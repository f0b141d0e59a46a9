#!/usr/bin/env python3
# ruff: noqa: T201, S603 - an operator CLI: it reports on stdout and runs the sibling oidc.sh
"""End-to-end check of the local development OIDC provider (deploy/local/oidc).

Needs httpx and PyJWT with crypto (``pip install httpx 'pyjwt[crypto]'``); uses
shared/src/casebridge_common/testing/tokens.py for the token flows. Run it against a started provider:

    deploy/local/oidc/oidc.sh start
    python deploy/local/oidc/check_tokens.py            # --no-restart to skip the restart check

Checks discovery; client-credentials tokens for every demo client and resource (RS256 signature against
the JWKS, iss, aud, TTL, scope, org_id/office_id/country/roles); wrong secret -> 401; partner scope limits;
unknown resource -> invalid_target; PKCE enforcement; the authorization-code + PKCE flow for the demo users
(and a refresh); unknown user refused; and, unless --no-restart, that a token issued before
``oidc.sh restart`` still verifies afterwards (same signing keys). Ends with "N passed, N failed".
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt

HERE = Path(__file__).resolve().parent
TOKENS_PY = HERE.parent.parent.parent / "shared" / "src" / "casebridge_common" / "testing" / "tokens.py"

RESOURCES: dict[str, tuple[str, str]] = {
    "urn:casebridge:case-api": (
        "case-api",
        "cases:read cases:write cases:admin cases.sensitive:read consents:write audit:read",
    ),
    "urn:casebridge:referral-api": (
        "referral-api",
        "referrals:read referrals:send referrals:respond directory:read directory:write audit:read",
    ),
    "urn:casebridge:scoring-api": (
        "scoring-api",
        "surveys:read surveys:submit scores:read aggregates:read instruments:write audit:read",
    ),
    "urn:casebridge:notification-api": (
        "notification-api",
        "inbox:read inbox:write subscriptions:read subscriptions:write audit:read",
    ),
}
ALL_SCOPES = {s for _, scope in RESOURCES.values() for s in scope.split()}
PARTNER_SCOPES = {
    "referrals:read",
    "referrals:respond",
    "directory:read",
    "directory:write",
    "inbox:read",
    "inbox:write",
    "subscriptions:read",
    "subscriptions:write",
}

READER_SCOPES = {"cases:read", "referrals:read", "directory:read", "scores:read", "surveys:read", "inbox:read"}

DE = {"org_id": "iom-germany", "office_id": "de-berlin", "country": "DE"}
SN = {"org_id": "iom-senegal", "office_id": "sn-dakar", "country": "SN"}
IQ = {"org_id": "iom-iraq", "office_id": "iq-erbil", "country": "IQ"}
CFP = {"org_id": "cfp-dakar", "country": "SN"}  # organisation-bound partner: no office_id
SYSTEM_ROLES = ["case_manager", "supervisor"]

# client_id -> (expected org claims, roles, allowed scopes)
CLIENTS: dict[str, tuple[dict[str, str], list[str], set[str]]] = {
    "de-berlin-system": (DE, SYSTEM_ROLES, ALL_SCOPES),
    "sn-dakar-system": (SN, SYSTEM_ROLES, ALL_SCOPES),
    "iq-erbil-system": (IQ, SYSTEM_ROLES, ALL_SCOPES),
    "cfp-dakar-partner": (CFP, ["partner_focal_point"], PARTNER_SCOPES),
    "de-berlin-clinic": (DE, ["clinical", "medical_focal_point"], ALL_SCOPES),
    "de-berlin-dpo": (DE, ["data_controller"], ALL_SCOPES),
    "sn-dakar-mhp": (SN, ["case_manager", "mental_health_professional"], ALL_SCOPES),
    "de-berlin-reader": (DE, ["case_manager"], READER_SCOPES),
}
# username -> (expected org claims, roles)
ACCOUNTS: dict[str, tuple[dict[str, str], list[str]]] = {
    "anna.schmidt": (DE, ["case_manager"]),
    "jonas.weber": (DE, ["supervisor"]),
    "fatou.diop": (SN, ["case_manager"]),
    "karwan.aziz": (IQ, ["case_manager"]),
    "moussa.ndiaye": (CFP, ["partner_focal_point"]),
}
ACCESS_TOKEN_TTL = 900


def load_tokens_module() -> ModuleType:
    # Loaded by path so this script needs neither the casebridge_common package installed nor its deps.
    spec = importlib.util.spec_from_file_location("casebridge_testing_tokens", TOKENS_PY)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {TOKENS_PY}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class Checker:
    def __init__(self, verbose: bool) -> None:
        self.passed = 0
        self.failed = 0
        self.verbose = verbose

    def check(self, name: str, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception as exc:  # report every failing check, keep going
            self.failed += 1
            print(f"FAIL {name}: {exc}")
            if self.verbose:
                traceback.print_exc()
        else:
            self.passed += 1
            print(f"ok   {name}")


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


class Verifier:
    def __init__(self, issuer: str, jwks_uri: str) -> None:
        self.issuer = issuer
        self.jwks = jwt.PyJWKClient(jwks_uri, cache_keys=False, cache_jwk_set=False)

    def verify(self, token: str, audience: str) -> dict[str, Any]:
        header = jwt.get_unverified_header(token)
        expect(header.get("alg") == "RS256", f"alg {header.get('alg')!r} != RS256")
        key = self.jwks.get_signing_key_from_jwt(token).key
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=audience,
            issuer=self.issuer,
            options={"require": ["exp", "iat", "sub", "aud", "iss"]},
        )
        expect(claims["aud"] == audience, f"aud {claims['aud']!r} is not exactly {audience!r}")
        expect(claims["exp"] - claims["iat"] == ACCESS_TOKEN_TTL, f"ttl {claims['exp'] - claims['iat']} != 900")
        return claims


def expect_org_claims(claims: dict[str, Any], org: dict[str, str], roles: list[str]) -> None:
    for key in ("org_id", "country"):
        expect(claims.get(key) == org[key], f"{key} {claims.get(key)!r} != {org[key]!r}")
    if "office_id" in org:
        expect(
            claims.get("office_id") == org["office_id"],
            f"office_id {claims.get('office_id')!r} != {org['office_id']!r}",
        )
    else:
        expect("office_id" not in claims, f"partner token carries office_id {claims.get('office_id')!r}")
    expect(claims.get("roles") == roles, f"roles {claims.get('roles')!r} != {roles!r}")


def token_error(
    token_endpoint: str, data: dict[str, str], auth: tuple[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    response = httpx.post(token_endpoint, data=data, auth=auth, timeout=10)
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        body = {"raw": response.text}
    return response.status_code, body


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issuer", default="http://127.0.0.1:9400", help="issuer URL [%(default)s]")
    parser.add_argument(
        "--secrets-file", type=Path, help="JSON {client_id: secret} if OIDC_CLIENT_SECRETS_FILE is used"
    )
    parser.add_argument("--no-restart", action="store_true", help="skip the 'oidc.sh restart' key-persistence check")
    parser.add_argument("-v", "--verbose", action="store_true", help="print sample decoded claims and tracebacks")
    args = parser.parse_args()
    issuer: str = args.issuer.rstrip("/")

    tokens = load_tokens_module()
    secrets_override: dict[str, str] = json.loads(args.secrets_file.read_text()) if args.secrets_file else {}

    def secret(client_id: str) -> str:
        return secrets_override.get(client_id) or tokens.demo_client_secret(client_id)

    c = Checker(args.verbose)
    state: dict[str, Any] = {}

    def discovery() -> None:
        doc = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=10).raise_for_status().json()
        expect(doc["issuer"] == issuer, f"issuer {doc['issuer']!r}")
        for grant in ("authorization_code", "refresh_token", "client_credentials"):
            expect(grant in doc["grant_types_supported"], f"grant {grant} not supported")
        expect(doc["code_challenge_methods_supported"] == ["S256"], "PKCE methods != [S256]")
        expect(set(doc["scopes_supported"]) >= ALL_SCOPES, "API scopes missing from scopes_supported")
        jwks = httpx.get(doc["jwks_uri"], timeout=10).raise_for_status().json()
        expect(all("d" not in k for k in jwks["keys"]), "JWKS exposes private key material")
        expect(any(k.get("kty") == "RSA" and k.get("use", "sig") == "sig" for k in jwks["keys"]), "no RSA signing key")
        state["doc"], state["kids"] = doc, sorted(k["kid"] for k in jwks["keys"])
        state["verifier"] = Verifier(issuer, doc["jwks_uri"])

    c.check("discovery and JWKS", discovery)
    if "doc" not in state:
        print(f"{c.passed} passed, {c.failed} failed")
        return 1
    token_endpoint: str = state["doc"]["token_endpoint"]
    verifier: Verifier = state["verifier"]

    for client_id, (org, roles, allowed) in CLIENTS.items():
        for resource, (audience, resource_scope) in RESOURCES.items():
            want = [s for s in resource_scope.split() if s in allowed]
            name = f"client_credentials {client_id} -> {audience}"
            if not want:

                def refused(client_id: str = client_id, resource: str = resource, scope: str = resource_scope) -> None:
                    status, body = token_error(
                        token_endpoint,
                        {"grant_type": "client_credentials", "resource": resource, "scope": scope},
                        (client_id, secret(client_id)),
                    )
                    expect(
                        status == 400 and body.get("error") == "invalid_target",
                        f"expected invalid_target, got {status} {body}",
                    )

                c.check(f"{name} refused (invalid_target)", refused)
                continue

            def issued(
                client_id: str = client_id,
                resource: str = resource,
                audience: str = audience,
                want: list[str] = want,
                org: dict[str, str] = org,
                roles: list[str] = roles,
            ) -> None:
                raw = tokens.client_credentials_token(
                    issuer, client_id, secret(client_id), resource=resource, scope=" ".join(want)
                )
                claims = verifier.verify(raw, audience)
                expect(
                    set(claims.get("scope", "").split()) == set(want),
                    f"scope {claims.get('scope')!r} != {' '.join(want)!r}",
                )
                expect(claims["sub"] == client_id and claims["client_id"] == client_id, "sub/client_id mismatch")
                expect_org_claims(claims, org, roles)
                state.setdefault("cc_sample", (raw, claims, audience))

            c.check(name, issued)

    def wrong_secret() -> None:
        status, body = token_error(
            token_endpoint,
            {"grant_type": "client_credentials", "resource": "urn:casebridge:case-api", "scope": "cases:read"},
            ("de-berlin-system", "not-the-secret"),
        )
        expect(
            status == 401 and body.get("error") == "invalid_client", f"expected 401 invalid_client, got {status} {body}"
        )

    c.check("wrong client secret -> 401 invalid_client", wrong_secret)

    def secret_post() -> None:
        status, body = token_error(
            token_endpoint,
            {
                "grant_type": "client_credentials",
                "client_id": "sn-dakar-system",
                "client_secret": secret("sn-dakar-system"),
                "resource": "urn:casebridge:scoring-api",
                "scope": "scores:read",
            },
        )
        expect(status == 200, f"client_secret_post refused: {status} {body}")
        claims = verifier.verify(body["access_token"], "scoring-api")
        expect(claims["scope"] == "scores:read", f"scope {claims['scope']!r}")

    c.check("client_secret_post also accepted", secret_post)

    def partner_no_cases_read() -> None:
        partner = ("cfp-dakar-partner", secret("cfp-dakar-partner"))
        status, body = token_error(
            token_endpoint,
            {"grant_type": "client_credentials", "resource": "urn:casebridge:case-api", "scope": "cases:read"},
            partner,
        )
        expect(status == 400 and body.get("error") == "invalid_target", f"case-api: got {status} {body}")
        status, body = token_error(
            token_endpoint,
            {
                "grant_type": "client_credentials",
                "resource": "urn:casebridge:referral-api",
                "scope": "referrals:read cases:read",
            },
            partner,
        )
        expect(
            status == 400 and body.get("error") == "invalid_scope", f"cases:read on referral-api: got {status} {body}"
        )

    c.check("partner client cannot get cases:read", partner_no_cases_read)

    def partner_no_send() -> None:
        status, body = token_error(
            token_endpoint,
            {"grant_type": "client_credentials", "resource": "urn:casebridge:referral-api", "scope": "referrals:send"},
            ("cfp-dakar-partner", secret("cfp-dakar-partner")),
        )
        expect(status == 400 and body.get("error") == "invalid_scope", f"got {status} {body}")

    c.check("partner client cannot get referrals:send", partner_no_send)

    def unknown_resource() -> None:
        for resource in ("urn:casebridge:unknown-api", "https://example.invalid/api"):
            status, body = token_error(
                token_endpoint,
                {"grant_type": "client_credentials", "resource": resource, "scope": "cases:read"},
                ("de-berlin-system", secret("de-berlin-system")),
            )
            expect(status == 400 and body.get("error") == "invalid_target", f"{resource}: got {status} {body}")

    c.check("unknown resource -> invalid_target", unknown_resource)

    def missing_resource() -> None:
        status, body = token_error(
            token_endpoint,
            {"grant_type": "client_credentials", "scope": "cases:read"},
            ("de-berlin-system", secret("de-berlin-system")),
        )
        expect(status == 400 and body.get("error") == "invalid_target", f"got {status} {body}")

    c.check("client_credentials without resource -> invalid_target", missing_resource)

    def pkce_required() -> None:
        response = httpx.get(
            state["doc"]["authorization_endpoint"],
            params={
                "client_id": "casebridge-mobile",
                "response_type": "code",
                "redirect_uri": "http://127.0.0.1:8765/callback",
                "scope": "cases:read",
                "resource": "urn:casebridge:case-api",
                "state": "x",
            },
            timeout=10,
        )
        expect(response.is_redirect, f"expected an error redirect, got {response.status_code}")
        query = parse_qs(urlsplit(response.headers["location"]).query)
        expect(query.get("error") == ["invalid_request"], f"got {query}")

    c.check("authorization without code_challenge -> invalid_request", pkce_required)

    def anna() -> None:
        scope = "openid offline_access cases:read cases:write consents:write"
        ts = tokens.authorization_code_tokens(issuer, "anna.schmidt", resource="urn:casebridge:case-api", scope=scope)
        claims = verifier.verify(ts.access_token, "case-api")
        expect(claims["sub"] == "anna.schmidt", f"sub {claims['sub']!r}")
        expect(claims["client_id"] == "casebridge-mobile", f"client_id {claims['client_id']!r}")
        expect(
            set(claims["scope"].split()) == {"cases:read", "cases:write", "consents:write"},
            f"scope {claims['scope']!r}",
        )
        expect_org_claims(claims, DE, ["case_manager"])
        expect(ts.refresh_token is not None and ts.id_token is not None, "no refresh_token/id_token")
        state["ac_sample"] = (ts.access_token, claims)
        refreshed = tokens.refresh_tokens(issuer, ts.refresh_token, resource="urn:casebridge:case-api")
        rclaims = verifier.verify(refreshed.access_token, "case-api")
        expect(rclaims["sub"] == "anna.schmidt" and rclaims["scope"] == claims["scope"], "refreshed token differs")
        expect_org_claims(rclaims, DE, ["case_manager"])

    c.check("authorization_code + PKCE anna.schmidt -> case-api (+ refresh)", anna)

    def anna_str() -> None:
        raw = tokens.authorization_code_token(
            issuer, "anna.schmidt", resource="urn:casebridge:scoring-api", scope="surveys:submit scores:read"
        )
        claims = verifier.verify(raw, "scoring-api")
        expect(set(claims["scope"].split()) == {"surveys:submit", "scores:read"}, f"scope {claims['scope']!r}")

    c.check("authorization_code_token anna.schmidt -> scoring-api (no openid)", anna_str)

    for username, (org, roles) in ACCOUNTS.items():

        def user(username: str = username, org: dict[str, str] = org, roles: list[str] = roles) -> None:
            raw = tokens.authorization_code_token(
                issuer, username, resource="urn:casebridge:notification-api", scope="inbox:read"
            )
            claims = verifier.verify(raw, "notification-api")
            expect(claims["sub"] == username and claims["scope"] == "inbox:read", f"claims {claims}")
            expect_org_claims(claims, org, roles)

        c.check(f"authorization_code {username} claims", user)

    def unknown_user() -> None:
        try:
            tokens.authorization_code_token(issuer, "mallory", resource="urn:casebridge:case-api", scope="cases:read")
        except tokens.AuthorizationDeniedError as exc:
            expect(exc.error == "access_denied", f"error {exc.error!r}")
            return
        raise AssertionError("unknown user got a token")

    c.check("unknown username cannot log in", unknown_user)

    if args.verbose:
        for label in ("cc_sample", "ac_sample"):
            if label in state:
                print(f"{label}: {json.dumps(state[label][1], sort_keys=True)}")

    if not args.no_restart:

        def restart_keeps_keys() -> None:
            expect("cc_sample" in state, "no earlier token to re-verify")
            raw, _, audience = state["cc_sample"]
            env = {**os.environ, "OIDC_PORT": str(urlsplit(issuer).port or 80)}
            subprocess.run([str(HERE / "oidc.sh"), "restart"], check=True, env=env)
            jwks = httpx.get(state["doc"]["jwks_uri"], timeout=10).raise_for_status().json()
            kids = sorted(k["kid"] for k in jwks["keys"])
            expect(kids == state["kids"], f"JWKS changed across restart: {state['kids']} -> {kids}")
            Verifier(issuer, state["doc"]["jwks_uri"]).verify(raw, audience)
            fresh = tokens.client_credentials_token(
                issuer,
                "de-berlin-system",
                secret("de-berlin-system"),
                resource="urn:casebridge:case-api",
                scope="cases:read",
            )
            expect(
                jwt.get_unverified_header(fresh)["kid"] == jwt.get_unverified_header(raw)["kid"], "new token, other kid"
            )

        c.check("token issued before 'oidc.sh restart' still verifies (same keys)", restart_keeps_keys)

    print(f"{c.passed} passed, {c.failed} failed")
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

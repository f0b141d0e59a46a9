"""Token validation against a static key set: every way a token can be wrong is a 401."""

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from casebridge_common.auth import InvalidToken, JwksCache, Principal, TokenVerifier

ISSUER, AUDIENCE = "http://127.0.0.1:9400", "case-api"


def _key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "alg": "RS256", "use": "sig"}, private=True)


SIGNING, ROTATED, FOREIGN = _key("k1"), _key("k2"), _key("k1")


def _public(*keys: RSAKey) -> KeySet:
    return KeySet.import_key_set({"keys": [k.as_dict(private=False) for k in keys]})


def _claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "de-berlin-system",
        "client_id": "de-berlin-system",
        "iat": now,
        "exp": now + 300,
        "scope": "cases:read cases:write",
        "org_id": "iom-germany",
        "office_id": "de-berlin",
        "country": "DE",
        "roles": ["case_manager"],
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(claims: dict[str, object], key: RSAKey = SIGNING) -> str:
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


def _b64(doc: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b"=").decode()


class CountingLoader:
    def __init__(self, *key_sets: KeySet) -> None:
        self._sets, self.calls = list(key_sets), 0

    async def __call__(self) -> KeySet:
        self.calls += 1
        return self._sets[min(self.calls, len(self._sets)) - 1]


def _verifier(loader: Callable[[], object]) -> TokenVerifier:
    return TokenVerifier(JwksCache(loader, min_reload_s=0), issuer=ISSUER, audience=AUDIENCE)  # type: ignore[arg-type]


async def test_valid_token_yields_the_principal_with_office_claims() -> None:
    principal = await _verifier(CountingLoader(_public(SIGNING))).verify(_sign(_claims()))
    assert principal == Principal(
        subject="de-berlin-system",
        client_id="de-berlin-system",
        organisation_id="iom-germany",
        office_id="de-berlin",
        country="DE",
        scopes=frozenset({"cases:read", "cases:write"}),
        roles=frozenset({"case_manager"}),
    )


@pytest.mark.parametrize(
    ("case", "token"),
    [
        ("expired", lambda: _sign(_claims(exp=int(time.time()) - 120))),
        ("not yet valid", lambda: _sign(_claims(nbf=int(time.time()) + 600))),
        ("wrong audience", lambda: _sign(_claims(aud="scoring-api"))),
        ("wrong issuer", lambda: _sign(_claims(iss="http://127.0.0.1:9999"))),
        ("no subject", lambda: _sign(_claims(sub=None))),
        ("no expiry", lambda: _sign(_claims(exp=None))),
        ("bad signature", lambda: _sign(_claims(), key=FOREIGN)),
        ("garbage", lambda: "not.a.jwt"),
    ],
)
async def test_rejects_bad_token(case: str, token: Callable[[], str]) -> None:
    with pytest.raises(InvalidToken):
        await _verifier(CountingLoader(_public(SIGNING))).verify(token())


async def test_rejects_alg_none() -> None:
    unsigned = f"{_b64({'alg': 'none', 'kid': 'k1'})}.{_b64(_claims())}."
    with pytest.raises(InvalidToken):
        await _verifier(CountingLoader(_public(SIGNING))).verify(unsigned)


async def test_rejects_hmac_signed_with_the_public_key_alg_confusion() -> None:
    signing_input = f"{_b64({'alg': 'HS256', 'kid': 'k1'})}.{_b64(_claims())}"
    mac = hmac.new(SIGNING.as_pem(private=False), signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    with pytest.raises(InvalidToken):
        await _verifier(CountingLoader(_public(SIGNING))).verify(forged)


async def test_unknown_kid_reloads_the_key_set_once_and_accepts_a_rotated_key() -> None:
    loader = CountingLoader(_public(SIGNING), _public(SIGNING, ROTATED))
    verifier = _verifier(loader)
    await verifier.verify(_sign(_claims()))
    principal = await verifier.verify(_sign(_claims(), key=ROTATED))
    assert principal.subject == "de-berlin-system"
    assert loader.calls == 2


async def test_unknown_kid_still_unknown_after_reload_is_rejected() -> None:
    loader = CountingLoader(_public(SIGNING))
    with pytest.raises(InvalidToken):
        await _verifier(loader).verify(_sign(_claims(), key=_key("k9")))
    assert loader.calls == 2  # the initial load and exactly one reload


async def test_reloads_for_unknown_kids_are_rate_limited() -> None:
    loader = CountingLoader(_public(SIGNING))
    verifier = TokenVerifier(JwksCache(loader, min_reload_s=60), issuer=ISSUER, audience=AUDIENCE)
    for kid in ("x1", "x2", "x3"):
        with pytest.raises(InvalidToken):
            await verifier.verify(_sign(_claims(), key=_key(kid)))
    assert loader.calls == 1


def count_decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on, every signature check appends to the returned list."""
    decoded: list[str] = []
    real_decode = jwt.decode

    def decode(*args: Any, **kwargs: Any) -> Any:
        decoded.append("decode")
        return real_decode(*args, **kwargs)

    monkeypatch.setattr(jwt, "decode", decode)
    return decoded


async def test_a_verified_token_is_remembered_until_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [int(time.time())]
    verifier = TokenVerifier(
        JwksCache(CountingLoader(_public(SIGNING))),
        issuer=ISSUER,
        audience=AUDIENCE,
        now=lambda: clock[0],
    )
    raw = _sign(_claims(iat=clock[0], exp=clock[0] + 60))
    first = await verifier.verify(raw)

    decoded = count_decodes(monkeypatch)
    assert await verifier.verify(raw) == first
    assert decoded == []  # the second use skipped the signature check

    clock[0] += 60 + 31  # past exp and the leeway: refused, although it was remembered
    with pytest.raises(InvalidToken):
        await verifier.verify(raw)
    assert decoded == ["decode"]


async def test_the_remembered_tokens_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    verifier = TokenVerifier(
        JwksCache(CountingLoader(_public(SIGNING))),
        issuer=ISSUER,
        audience=AUDIENCE,
        cache_size=2,
    )
    tokens = [_sign(_claims(sub=f"client-{i}")) for i in range(3)]
    for raw in tokens:
        await verifier.verify(raw)
    decoded = count_decodes(monkeypatch)
    await verifier.verify(tokens[2])
    await verifier.verify(tokens[1])
    assert decoded == []
    await verifier.verify(tokens[0])  # the oldest was dropped: checked again
    assert decoded == ["decode"]

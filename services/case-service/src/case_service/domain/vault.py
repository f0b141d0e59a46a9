"""Envelope encryption of the sensitive categories (data-protection.md R-S1, R-M5): pure, no I/O, no clock.

Every beneficiary has one random 256-bit *data key*. It is stored only wrapped (AES-256-GCM) under the service's
*key-encryption key* (KEK, a setting), in ``beneficiary_keys``. Sensitive values (C3/C4 assessment payloads,
confidential note bodies) are sealed with AES-256-GCM under the data key, and the ciphertext is bound to its row:
the associated data names the table, the row id and the column, so a ciphertext copied into another row, table or
column fails to open. Destroying the wrapped key (crypto-shredding) makes every value sealed under it unreadable,
wherever a copy of it went.

A sealed value is ``0x01 || nonce (12 bytes) || ciphertext || tag (16 bytes)``; the leading byte is the format.
"""

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Column, DateTime, LargeBinary, func
from sqlmodel import Field, SQLModel

FORMAT_V1 = b"\x01"
NONCE_BYTES = 12
KEY_BYTES = 32
_KEK_INFO = b"casebridge/case-service/key-encryption-key/v1"


class VaultError(Exception):
    """A sealed value or a wrapped key could not be opened: wrong key, wrong row, or tampered bytes."""


class BeneficiaryKey(SQLModel, table=True):
    """One beneficiary's data key, wrapped under the KEK. Erasure nulls ``wrapped_key`` and keeps the row as a
    tombstone, so no new key can be created for an erased person."""

    __tablename__ = "beneficiary_keys"

    beneficiary_id: UUID = Field(primary_key=True, foreign_key="beneficiaries.id")
    wrapped_key: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    key_version: int  # the KEK version that wrapped the key; bound into the wrap, so a mismatch cannot open
    created_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )
    destroyed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


@dataclass(frozen=True, slots=True)
class KeyEncryptionKey:
    key: bytes = field(repr=False)
    version: int

    @classmethod
    def derive(cls, secret: str, version: int) -> "KeyEncryptionKey":
        """The 256-bit KEK from the configured secret (HKDF-SHA256; the secret itself must be high-entropy)."""
        hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=_KEK_INFO)
        return cls(hkdf.derive(secret.encode()), version)


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def row_aad(table: str, row_id: UUID, column: str) -> bytes:
    """The associated data that binds a sealed value to one column of one row."""
    return f"casebridge:case-service:{table}:{row_id}:{column}".encode()


def _wrap_aad(beneficiary_id: UUID, key_version: int) -> bytes:
    return f"casebridge:case-service:beneficiary_keys:{beneficiary_id}:v{key_version}".encode()


def seal(key: bytes, plaintext: bytes, *, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)  # random 96-bit nonces: far below the 2^32 messages-per-key bound
    return FORMAT_V1 + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, sealed: bytes, *, aad: bytes) -> bytes:
    if len(sealed) < 1 + NONCE_BYTES + 16 or sealed[:1] != FORMAT_V1:
        raise VaultError("not a sealed value of a known format")
    nonce, ciphertext = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, aad)
    except InvalidTag as exc:
        raise VaultError("the sealed value does not open with this key for this row") from exc


def wrap_data_key(kek: KeyEncryptionKey, data_key: bytes, *, beneficiary_id: UUID) -> bytes:
    return seal(kek.key, data_key, aad=_wrap_aad(beneficiary_id, kek.version))


def unwrap_data_key(kek: KeyEncryptionKey, wrapped: bytes, *, beneficiary_id: UUID, key_version: int) -> bytes:
    if key_version != kek.version:
        raise VaultError(f"the data key is wrapped under KEK version {key_version}, this process has {kek.version}")
    return open_sealed(kek.key, wrapped, aad=_wrap_aad(beneficiary_id, key_version))


def seal_json(key: bytes, value: dict[str, object], *, aad: bytes) -> bytes:
    return seal(key, json.dumps(value, separators=(",", ":"), sort_keys=True).encode(), aad=aad)


def open_json(key: bytes, sealed: bytes, *, aad: bytes) -> dict[str, object]:
    value = json.loads(open_sealed(key, sealed, aad=aad))
    if not isinstance(value, dict):
        raise VaultError("a sealed document is not a JSON object")
    return value


def seal_text(key: bytes, value: str, *, aad: bytes) -> bytes:
    return seal(key, value.encode(), aad=aad)


def open_text(key: bytes, sealed: bytes, *, aad: bytes) -> str:
    return open_sealed(key, sealed, aad=aad).decode()

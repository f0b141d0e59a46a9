"""Envelope encryption (domain/vault.py) and the erasure rules (domain/subject_rights.py): pure, no I/O."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from case_service.domain.models import Beneficiary, Sex
from case_service.domain.stages import Stage
from case_service.domain.subject_rights import (
    CHILD_MONITORING_PERIOD,
    CaseRetention,
    HoldReason,
    anonymise,
    retention_holds,
)
from case_service.domain.vault import (
    KeyEncryptionKey,
    VaultError,
    new_data_key,
    open_json,
    open_sealed,
    open_text,
    row_aad,
    seal,
    seal_json,
    seal_text,
    unwrap_data_key,
    wrap_data_key,
)

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
ROW = uuid.UUID("1d2f0c9e-3b8a-4f7e-9c61-0a5b4d3e2f10")
PAYLOAD: dict[str, object] = {"return_decision": "return_with_care_plan", "conditions": ["diabetes"]}


def test_a_sealed_payload_opens_to_the_same_document_and_holds_no_plaintext() -> None:
    key = new_data_key()
    sealed = seal_json(key, PAYLOAD, aad=row_aad("assessments", ROW, "data"))
    assert b"diabetes" not in sealed
    assert sealed[:1] == b"\x01"
    assert open_json(key, sealed, aad=row_aad("assessments", ROW, "data")) == PAYLOAD


def test_sealing_twice_gives_different_ciphertexts_for_the_same_value() -> None:
    key = new_data_key()
    aad = row_aad("case_notes", ROW, "body")
    assert seal_text(key, "same", aad=aad) != seal_text(key, "same", aad=aad)
    assert open_text(key, seal_text(key, "same", aad=aad), aad=aad) == "same"


@pytest.mark.parametrize(
    "other_aad",
    [
        row_aad("assessments", uuid.uuid4(), "data"),  # copied into another row
        row_aad("case_notes", ROW, "data"),  # into another table
        row_aad("assessments", ROW, "body"),  # into another column
    ],
)
def test_a_ciphertext_moved_to_another_row_table_or_column_does_not_open(other_aad: bytes) -> None:
    key = new_data_key()
    sealed = seal_json(key, PAYLOAD, aad=row_aad("assessments", ROW, "data"))
    with pytest.raises(VaultError):
        open_json(key, sealed, aad=other_aad)


def test_another_beneficiarys_key_does_not_open_a_value() -> None:
    aad = row_aad("assessments", ROW, "data")
    with pytest.raises(VaultError):
        open_json(new_data_key(), seal_json(new_data_key(), PAYLOAD, aad=aad), aad=aad)


def test_a_flipped_bit_or_a_truncated_value_is_refused() -> None:
    key, aad = new_data_key(), row_aad("assessments", ROW, "data")
    sealed = bytearray(seal(key, b"secret", aad=aad))
    sealed[-1] ^= 1
    with pytest.raises(VaultError):
        open_sealed(key, bytes(sealed), aad=aad)
    with pytest.raises(VaultError):
        open_sealed(key, b"\x01short", aad=aad)
    with pytest.raises(VaultError):
        open_sealed(key, b"\x02" + bytes(sealed[1:]), aad=aad)


def test_a_wrapped_key_unwraps_only_for_its_beneficiary_and_kek_version() -> None:
    kek, beneficiary = KeyEncryptionKey.derive("a-test-kek-of-at-least-32-characters", 1), uuid.uuid4()
    data_key = new_data_key()
    wrapped = wrap_data_key(kek, data_key, beneficiary_id=beneficiary)
    assert data_key not in wrapped
    assert unwrap_data_key(kek, wrapped, beneficiary_id=beneficiary, key_version=1) == data_key
    with pytest.raises(VaultError):
        unwrap_data_key(kek, wrapped, beneficiary_id=uuid.uuid4(), key_version=1)
    with pytest.raises(VaultError):
        unwrap_data_key(kek, wrapped, beneficiary_id=beneficiary, key_version=2)
    other = KeyEncryptionKey.derive("another-kek-of-at-least-32-characters", 1)
    with pytest.raises(VaultError):
        unwrap_data_key(other, wrapped, beneficiary_id=beneficiary, key_version=1)


def test_the_kek_is_derived_deterministically_and_never_shown() -> None:
    first = KeyEncryptionKey.derive("a-test-kek-of-at-least-32-characters", 1)
    assert first == KeyEncryptionKey.derive("a-test-kek-of-at-least-32-characters", 1)
    assert len(first.key) == 32
    assert "key=" not in repr(first)


def test_without_the_destroyed_key_nothing_sealed_under_it_opens() -> None:
    """Crypto-shredding: once the data key is gone, the only way in is the key itself."""
    kek, beneficiary = KeyEncryptionKey.derive("a-test-kek-of-at-least-32-characters", 1), uuid.uuid4()
    data_key = new_data_key()
    sealed = seal_json(data_key, PAYLOAD, aad=row_aad("assessments", ROW, "data"))
    del data_key  # the wrapped copy was the only one: a fresh key for the same person opens nothing
    replacement = unwrap_data_key(
        kek, wrap_data_key(kek, new_data_key(), beneficiary_id=beneficiary), beneficiary_id=beneficiary, key_version=1
    )
    with pytest.raises(VaultError):
        open_json(replacement, sealed, aad=row_aad("assessments", ROW, "data"))


def _case(stage: Stage, *, ended_days_ago: int = 400, child: bool = False) -> CaseRetention:
    return CaseRetention(uuid.uuid4(), stage, NOW - timedelta(days=ended_days_ago), child)


def test_erasure_may_go_ahead_when_every_case_ended_and_nothing_holds_the_records() -> None:
    cases = [_case(Stage.CLOSED), _case(Stage.WITHDRAWN), _case(Stage.TRANSITIONED), _case(Stage.DECEASED)]
    assert retention_holds(cases, [], now=NOW) == []
    assert retention_holds([], [], now=NOW) == []


@pytest.mark.parametrize("stage", [Stage.IMPLEMENTATION, Stage.ON_HOLD, Stage.POST_CLOSURE_MONITORING])
def test_an_open_paused_or_monitored_case_holds_the_records(stage: Stage) -> None:
    case = _case(stage)
    assert [(h.reason, h.case_id) for h in retention_holds([case], [], now=NOW)] == [
        (HoldReason.CASE_OPEN, case.case_id)
    ]


def test_a_childs_closed_case_holds_the_records_for_the_monitoring_period() -> None:
    recent = _case(Stage.CLOSED, ended_days_ago=30, child=True)
    [hold] = retention_holds([recent], [], now=NOW)
    assert hold.reason is HoldReason.CHILD_POST_CLOSURE_MONITORING
    assert hold.until == NOW - timedelta(days=30) + CHILD_MONITORING_PERIOD
    assert retention_holds([_case(Stage.CLOSED, ended_days_ago=92, child=True)], [], now=NOW) == []
    assert retention_holds([_case(Stage.CLOSED, ended_days_ago=30, child=False)], [], now=NOW) == []


def test_a_legal_hold_holds_the_records_whatever_the_cases() -> None:
    hold_id = uuid.uuid4()
    [hold] = retention_holds([_case(Stage.CLOSED)], [hold_id], now=NOW)
    assert (hold.reason, hold.hold_id) == (HoldReason.LEGAL_HOLD, hold_id)


def test_anonymising_replaces_the_names_and_keeps_only_the_year_of_birth() -> None:
    person = Beneficiary(
        given_name="Awa",
        family_name="Ndiaye",
        sex=Sex.FEMALE,
        born_on=date(1994, 3, 17),
        nationality="SN",
        registering_office_id="de-berlin",
        registered_at=NOW,
    )
    anonymise(person)
    assert (person.given_name, person.family_name) == ("erased", "erased")
    assert (person.born_on, person.born_on_is_estimated) == (date(1994, 1, 1), True)
    assert (person.sex, person.nationality, person.version) == (Sex.FEMALE, "SN", 2)

"""The pure rules of mobile sync: which writes are journalled, the cursor's positions, stale base versions."""

import uuid
from datetime import UTC, date, datetime

import pytest

from case_service.domain.assessments import Assessment, AssessmentKind, CaseNote
from case_service.domain.consent import ConsentMethod, ConsentRecord
from case_service.domain.models import Beneficiary, Case, Sex, open_case_for
from case_service.domain.sharing import CaseReferralLink, CaseShare
from case_service.domain.sync import ChangeOp, SyncEntity, SyncPosition, is_stale, journal_entries
from casebridge_common.access import ConsentStatus, GivenBy, ShareMode
from casebridge_common.events.contracts.case import Programme
from casebridge_common.outbox import OutboxMessage

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def a_case() -> tuple[Beneficiary, Case]:
    person = Beneficiary(
        given_name="Awa",
        family_name="Ndiaye",
        sex=Sex.FEMALE,
        born_on=date(1994, 3, 17),
        nationality="SN",
        registering_office_id="de-berlin",
        registered_at=NOW,
    )
    case = open_case_for(
        person.id,
        programme=Programme.RETURN_REINTEGRATION,
        office_id="de-berlin",
        organisation_id=None,
        assigned_worker=None,
        now=NOW,
    )
    return person, case


def test_each_tracked_record_gives_one_entry_for_its_case_and_untracked_ones_none() -> None:
    person, case = a_case()
    case_id = case.id
    note = CaseNote(case_id=case_id, body="Visited", author="w", written_at=NOW)
    assessment = Assessment(
        case_id=case_id,
        kind=AssessmentKind.NEEDS,
        version=1,
        is_sensitive=False,
        data={"economic": "capital"},
        recorded_by="w",
        recorded_at=NOW,
    )
    share = CaseShare(case_id=case_id, office_id="sn-dakar", mode=ShareMode.VIEW, granted_by="w", granted_at=NOW)
    link = CaseReferralLink(
        referral_id=uuid.uuid4(),
        case_id=case_id,
        destination_organisation_id="cfp-dakar",
        active=False,
        referral_version=2,
        updated_at=NOW,
    )
    untracked = [person, OutboxMessage(event_id=uuid.uuid4(), topic="t", key="k", event={})]
    entries = journal_entries([case, note, assessment, *untracked], [share, link], [])
    assert {(e.case_id, e.entity_type, e.entity_id, e.op) for e in entries} == {
        (case_id, SyncEntity.CASE, case_id, ChangeOp.UPSERT),
        (case_id, SyncEntity.NOTE, note.id, ChangeOp.UPSERT),
        (case_id, SyncEntity.ASSESSMENT, assessment.id, ChangeOp.UPSERT),
        (case_id, SyncEntity.ACCESS, share.id, ChangeOp.UPSERT),
        (case_id, SyncEntity.ACCESS, link.referral_id, ChangeOp.UPSERT),
    }
    assert journal_entries(untracked, untracked, untracked) == []


def test_a_consent_change_is_an_access_change_of_the_beneficiary_not_of_one_case() -> None:
    consent = ConsentRecord(
        beneficiary_id=uuid.uuid4(),
        status=ConsentStatus.WITHDRAWN,
        given_by=GivenBy.SELF,
        method=ConsentMethod.WRITTEN,
        notice_version="n1",
        scopes=[],
        valid_from=NOW,
        recorded_by="w",
        recorded_by_office_id="de-berlin",
        recorded_at=NOW,
    )
    (entry,) = journal_entries([], [consent], [])
    assert (entry.case_id, entry.beneficiary_id, entry.entity_type) == (
        None,
        consent.beneficiary_id,
        SyncEntity.ACCESS,
    )


def test_a_record_written_twice_in_one_flush_and_a_deleted_one() -> None:
    _, case = a_case()
    case_id = case.id
    note = CaseNote(case_id=case_id, body="Visited", author="w", written_at=NOW)
    entries = journal_entries([note], [note], [case])
    assert [(e.entity_type, e.op) for e in entries] == [
        (SyncEntity.NOTE, ChangeOp.UPSERT),
        (SyncEntity.CASE, ChangeOp.DELETE),
    ]


@pytest.mark.parametrize(
    "position",
    [
        SyncPosition(seq=0, since=NOW),
        SyncPosition(seq=42, since=NOW),
        SyncPosition(seq=7, since=NOW, snapshot=True),
        SyncPosition(seq=7, since=NOW, snapshot=True, after_case=uuid.uuid4()),
    ],
)
def test_a_position_survives_its_encoding(position: SyncPosition) -> None:
    assert SyncPosition.decode(position.encode()) == position


@pytest.mark.parametrize(
    "after",
    [
        [],
        ["changes"],
        ["changes", 12],  # a position needs the time its lapses were accounted up to
        ["changes", -1, NOW.isoformat()],
        ["changes", "12", NOW.isoformat()],
        ["changes", 1.5, NOW.isoformat()],
        ["changes", True, NOW.isoformat()],
        ["changes", 12, "yesterday"],
        ["changes", 12, "2026-12-02T09:00:00"],  # naive: never issued
        ["snapshot", 3, NOW.isoformat()],
        ["snapshot", 3, NOW.isoformat(), "x"],
        ["rewind", 3, NOW.isoformat()],
        [None],
    ],
)
def test_anything_a_server_never_issued_is_not_a_position(after: list[object]) -> None:
    with pytest.raises(ValueError, match="not a sync position"):
        SyncPosition.decode(after)


@pytest.mark.parametrize(
    ("base", "current", "stale"),
    [(None, None, False), (3, 3, False), (2, 3, True), (None, 1, True), (4, 3, True)],
)
def test_an_edit_is_stale_when_the_server_has_another_version(
    base: int | None, current: int | None, stale: bool
) -> None:
    assert is_stale(base, current) is stale

"""The vault on real PostgreSQL: one key per beneficiary under concurrent first writers, sealed rows, tombstones."""

import asyncio
from datetime import UTC, date, datetime
from uuid import UUID

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from case_service.domain.assessments import Assessment, AssessmentKind, CaseNote
from case_service.domain.errors import BeneficiaryKeyDestroyed
from case_service.domain.models import Beneficiary, Sex, open_case_for
from case_service.domain.vault import KeyEncryptionKey
from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.events.contracts.case import Programme

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
KEK = KeyEncryptionKey.derive("integration-test-kek-of-32-characters", 1)
BID = {"decision": "return_in_best_interests", "reference": "BID-2026-0042"}


async def a_case(sessions: async_sessionmaker[AsyncSession]) -> tuple[UUID, UUID]:
    async with CaseUnitOfWork(sessions, kek=KEK) as uow:
        person = Beneficiary(
            given_name="Ibou",
            family_name="Ndiaye",
            sex=Sex.MALE,
            born_on=date(2016, 5, 1),
            nationality="SN",
            registering_office_id="de-berlin",
            registered_at=NOW,
        )
        uow.beneficiaries.add(person)
        case = open_case_for(
            person.id,
            programme=Programme.RETURN_REINTEGRATION,
            office_id="de-berlin",
            organisation_id="iom-germany",
            assigned_worker=None,
            now=NOW,
        )
        uow.cases.add(case)
        await uow.commit()
    return person.id, case.id


def bid(case_id: UUID, version: int) -> Assessment:
    return Assessment(
        case_id=case_id,
        kind=AssessmentKind.BEST_INTERESTS_DETERMINATION,
        version=version,
        is_sensitive=True,
        data=dict(BID),
        recorded_by="anna.schmidt",
        recorded_at=NOW,
    )


async def test_concurrent_first_writers_agree_on_one_key_and_both_rows_open(
    committed_sessions: async_sessionmaker[AsyncSession],
) -> None:
    beneficiary_id, case_id = await a_case(committed_sessions)

    async def write(version: int) -> None:
        async with CaseUnitOfWork(committed_sessions, kek=KEK) as uow:
            await uow.assessments.add(bid(case_id, version))
            await uow.commit()

    await asyncio.gather(write(1), write(2))
    async with committed_sessions() as session:
        keys = (
            await session.execute(
                text("SELECT count(*) FROM beneficiary_keys WHERE beneficiary_id = :b"), {"b": beneficiary_id}
            )
        ).scalar_one()
    assert keys == 1
    async with CaseUnitOfWork(committed_sessions, kek=KEK) as uow:
        rows = await uow.assessments.history(case_id, AssessmentKind.BEST_INTERESTS_DETERMINATION)
    assert [(r.version, r.data, r.is_erased) for r in rows] == [(2, BID, False), (1, BID, False)]


async def test_plaintext_cannot_be_written_back_into_a_sealed_row(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    _, case_id = await a_case(sessions)
    async with CaseUnitOfWork(sessions, kek=KEK) as uow:
        assessment = bid(case_id, 1)
        await uow.assessments.add(assessment)
        assert assessment.data == BID  # the caller keeps its plaintext
        assessment.data = {"decision": "leaked"}
        with pytest.raises(IntegrityError):
            await uow.session.flush()


async def test_after_the_key_is_destroyed_rows_read_as_erased_and_no_new_key_can_be_made(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    beneficiary_id, case_id = await a_case(sessions)
    async with CaseUnitOfWork(sessions, kek=KEK) as uow:
        await uow.assessments.add(bid(case_id, 1))
        await uow.notes.add(
            CaseNote(
                case_id=case_id, body="Told us about the smuggler", is_confidential=True, author="a", written_at=NOW
            )
        )
        await uow.commit()
    async with CaseUnitOfWork(sessions, kek=KEK) as uow:
        await uow.vault.destroy(beneficiary_id)
        await uow.commit()
    async with CaseUnitOfWork(sessions, kek=KEK) as uow:
        [assessment] = await uow.assessments.history(case_id, None)
        [note] = await uow.notes.all_of(case_id)
        assert (assessment.data, assessment.is_erased, note.body, note.is_erased) == ({}, True, "", True)
        with pytest.raises(BeneficiaryKeyDestroyed):
            await uow.assessments.add(bid(case_id, 2))


async def test_a_unit_of_work_without_the_kek_refuses_to_seal(sessions: async_sessionmaker[AsyncSession]) -> None:
    _, case_id = await a_case(sessions)
    async with CaseUnitOfWork(sessions) as uow:
        with pytest.raises(RuntimeError, match="key-encryption key"):
            await uow.assessments.add(bid(case_id, 1))

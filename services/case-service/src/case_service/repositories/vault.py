"""The beneficiary keys (``beneficiary_keys``) and sealing/opening of values under them.

Repositories of tables that hold sensitive values (assessments, case notes) call :class:`Vault`, so callers
above never see ciphertext: they write plaintext and read plaintext, or read an erased value as erased.
"""

from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col

from case_service.domain.assessments import Assessment, CaseNote
from case_service.domain.errors import BeneficiaryKeyDestroyed
from case_service.domain.models import Case
from case_service.domain.vault import (
    BeneficiaryKey,
    KeyEncryptionKey,
    new_data_key,
    open_json,
    open_text,
    row_aad,
    seal_json,
    seal_text,
    unwrap_data_key,
    wrap_data_key,
)

# Sealed values are stored in a second column and the plaintext column keeps an empty value (a CHECK constraint
# holds it empty). After an insert or a load the opened value is put back with `set_committed_value`: the object
# then shows plaintext to its callers, and the session does not see a change to write back.


class Vault:
    """Data keys are unwrapped at most once per unit of work and kept only in memory for its duration."""

    def __init__(self, session: AsyncSession, kek: KeyEncryptionKey | None) -> None:
        self._session, self._kek = session, kek
        self._keys: dict[UUID, bytes | None] = {}
        self._owners: dict[UUID, UUID] = {}

    def _require_kek(self) -> KeyEncryptionKey:
        if self._kek is None:
            raise RuntimeError("this unit of work was built without the key-encryption key (settings)")
        return self._kek

    async def beneficiary_of(self, case_id: UUID) -> UUID:
        if case_id not in self._owners:
            beneficiary_id = await self._session.scalar(select(col(Case.beneficiary_id)).where(col(Case.id) == case_id))
            if beneficiary_id is None:
                raise LookupError(f"case {case_id} does not exist")
            self._owners[case_id] = beneficiary_id
        return self._owners[case_id]

    async def state(self, beneficiary_id: UUID) -> BeneficiaryKey | None:
        return await self._session.get(BeneficiaryKey, beneficiary_id, populate_existing=True)

    async def key(self, beneficiary_id: UUID) -> bytes | None:
        """The data key, or None when there is none yet or erasure destroyed it."""
        if beneficiary_id not in self._keys:
            row = await self.state(beneficiary_id)
            self._keys[beneficiary_id] = (
                None
                if row is None or row.wrapped_key is None
                else unwrap_data_key(
                    self._require_kek(), row.wrapped_key, beneficiary_id=beneficiary_id, key_version=row.key_version
                )
            )
        return self._keys[beneficiary_id]

    async def key_for_writing(self, beneficiary_id: UUID) -> bytes:
        """The data key, created on first need. Concurrent first writers agree on one key (ON CONFLICT)."""
        if (existing := await self.key(beneficiary_id)) is not None:
            return existing
        kek = self._require_kek()
        await self._session.execute(
            insert(BeneficiaryKey)
            .values(
                beneficiary_id=beneficiary_id,
                wrapped_key=wrap_data_key(kek, new_data_key(), beneficiary_id=beneficiary_id),
                key_version=kek.version,
            )
            .on_conflict_do_nothing(index_elements=["beneficiary_id"])
        )
        self._keys.pop(beneficiary_id, None)
        key = await self.key(beneficiary_id)
        if key is None:  # the row existed and is a tombstone: the person was erased
            raise BeneficiaryKeyDestroyed(beneficiary_id=beneficiary_id)
        return key

    async def destroy(self, beneficiary_id: UUID) -> None:
        """Crypto-shredding: drop the wrapped key and keep a tombstone, so no key can be created again."""
        kek = self._require_kek()
        await self._session.execute(
            insert(BeneficiaryKey)
            .values(beneficiary_id=beneficiary_id, wrapped_key=None, key_version=kek.version, destroyed_at=func.now())
            .on_conflict_do_update(
                index_elements=["beneficiary_id"],
                set_={
                    "wrapped_key": None,
                    "destroyed_at": func.coalesce(col(BeneficiaryKey.destroyed_at), func.now()),
                },
            )
        )
        self._keys[beneficiary_id] = None

    async def store_assessment(self, assessment: Assessment) -> None:
        """Add the row; a sensitive kind's payload is sealed first (nothing may flush the plaintext before)."""
        if not assessment.is_sensitive:
            self._session.add(assessment)
            return
        key = await self.key_for_writing(await self.beneficiary_of(assessment.case_id))
        payload = assessment.data
        assessment.sealed_data = seal_json(key, payload, aad=row_aad("assessments", assessment.id, "data"))
        assessment.data = {}
        self._session.add(assessment)
        await self._session.flush()
        set_committed_value(assessment, "data", payload)

    async def opened_assessments(self, rows: list[Assessment]) -> list[Assessment]:
        """Open sealed payloads; under a destroyed key a payload stays empty and the row reads as erased."""
        for row in rows:
            if row.sealed_data is not None and not row.data:
                key = await self.key(await self.beneficiary_of(row.case_id))
                if key is not None:
                    aad = row_aad("assessments", row.id, "data")
                    set_committed_value(row, "data", open_json(key, row.sealed_data, aad=aad))
        return rows

    async def store_note(self, note: CaseNote) -> None:
        if not note.is_confidential:
            self._session.add(note)
            return
        key = await self.key_for_writing(await self.beneficiary_of(note.case_id))
        body = note.body
        note.sealed_body, note.body = seal_text(key, body, aad=row_aad("case_notes", note.id, "body")), ""
        self._session.add(note)
        await self._session.flush()
        set_committed_value(note, "body", body)

    async def opened_notes(self, rows: list[CaseNote]) -> list[CaseNote]:
        for row in rows:
            if row.sealed_body is not None and not row.body:
                key = await self.key(await self.beneficiary_of(row.case_id))
                if key is not None:
                    aad = row_aad("case_notes", row.id, "body")
                    set_committed_value(row, "body", open_text(key, row.sealed_body, aad=aad))
        return rows

    async def seal_plaintext(self, beneficiary_id: UUID, case_ids: list[UUID]) -> int:
        """Seal the sensitive rows written before encryption at rest existed (they are read as they are until
        then), so that destroying the key afterwards covers them too. Returns how many rows were sealed."""
        if not case_ids:
            return 0
        assessments = (
            await self._session.scalars(
                select(Assessment).where(
                    col(Assessment.case_id).in_(case_ids),
                    col(Assessment.is_sensitive).is_(True),
                    col(Assessment.sealed_data).is_(None),
                )
            )
        ).all()
        notes = (
            await self._session.scalars(
                select(CaseNote).where(
                    col(CaseNote.case_id).in_(case_ids),
                    col(CaseNote.is_confidential).is_(True),
                    col(CaseNote.sealed_body).is_(None),
                )
            )
        ).all()
        if not assessments and not notes:
            return 0
        key = await self.key_for_writing(beneficiary_id)
        for assessment in assessments:
            aad = row_aad("assessments", assessment.id, "data")
            assessment.sealed_data, assessment.data = seal_json(key, assessment.data, aad=aad), {}
        for note in notes:
            note.sealed_body, note.body = seal_text(key, note.body, aad=row_aad("case_notes", note.id, "body")), ""
        await self._session.flush()
        return len(assessments) + len(notes)

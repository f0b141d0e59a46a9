"""Caseload imports and their rows. An import is visible to the office that submitted it only."""

from collections.abc import Iterable
from uuid import UUID

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from case_service.domain.imports import CaseImport, CaseImportRow, ImportStatus, RowOutcome


class Imports:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, job: CaseImport, rows: Iterable[CaseImportRow]) -> None:
        self._session.add(job)
        self._session.add_all(list(rows))

    async def get_visible(self, import_id: UUID, *, office_id: str) -> CaseImport | None:
        return (
            await self._session.scalars(
                select(CaseImport).where(col(CaseImport.id) == import_id, col(CaseImport.office_id) == office_id)
            )
        ).one_or_none()

    async def next_unfinished(self) -> CaseImport | None:
        """The oldest import with rows left, locked; another worker skips it and takes the next one."""
        query = (
            select(CaseImport)
            .where(col(CaseImport.status) != ImportStatus.COMPLETED)
            .order_by(col(CaseImport.created_at), col(CaseImport.id))
            .limit(1)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        return (await self._session.scalars(query)).one_or_none()

    async def pending_rows(self, import_id: UUID, *, limit: int) -> list[CaseImportRow]:
        query = (
            select(CaseImportRow)
            .where(col(CaseImportRow.import_id) == import_id, col(CaseImportRow.outcome) == RowOutcome.PENDING)
            .order_by(col(CaseImportRow.row_number))
            .limit(limit)
        )
        return list((await self._session.scalars(query)).all())

    async def imported_keys(
        self, office_id: str, *, external_ids: Iterable[str], hashes: Iterable[str]
    ) -> tuple[set[str], set[str]]:
        """Which of these external ids and content hashes this office has imported already."""
        external, content = list(set(external_ids)), list(set(hashes))
        if not external and not content:
            return set(), set()
        rows = await self._session.execute(
            select(col(CaseImportRow.external_id), col(CaseImportRow.content_hash)).where(
                col(CaseImportRow.office_id) == office_id,
                col(CaseImportRow.outcome) == RowOutcome.IMPORTED,
                or_(col(CaseImportRow.external_id).in_(external), col(CaseImportRow.content_hash).in_(content)),
            )
        )
        seen_external: set[str] = set()
        seen_hashes: set[str] = set()
        for external_id, digest in rows.all():
            if external_id is not None:
                seen_external.add(external_id)
            if digest is not None:
                seen_hashes.add(digest)
        return seen_external, seen_hashes

    async def rejections(self, import_id: UUID, *, after: int | None, limit: int | None) -> list[CaseImportRow]:
        """Rejected rows in row order, after the row number `after`; all of them when `limit` is None."""
        query = select(CaseImportRow).where(
            col(CaseImportRow.import_id) == import_id, col(CaseImportRow.outcome) == RowOutcome.REJECTED
        )
        if after is not None:
            query = query.where(col(CaseImportRow.row_number) > after)
        query = query.order_by(col(CaseImportRow.row_number))
        if limit is not None:
            query = query.limit(limit)
        return list((await self._session.scalars(query)).all())

    async def scrub_rows_of(self, beneficiary_id: UUID, case_ids: list[UUID]) -> int:
        """Erasure: the processed rows that held this person (the imported row, and the office's skipped and
        rejected rows with its legacy case number or content hash) keep their row number, outcome, problems and
        time only. The content hash goes too: it is a digest of names and date of birth, so it identifies.
        Pending rows are a new upload, not yet the person's record: they are left to the import. Returns how
        many rows were scrubbed."""
        own = or_(col(CaseImportRow.beneficiary_id) == beneficiary_id, col(CaseImportRow.case_id).in_(case_ids))
        keys = (
            await self._session.execute(
                select(
                    col(CaseImportRow.office_id), col(CaseImportRow.external_id), col(CaseImportRow.content_hash)
                ).where(own)
            )
        ).all()
        same: list[ColumnElement[bool]] = [own]
        for office_id, external_id, digest in keys:
            matches = [col(CaseImportRow.external_id) == external_id] if external_id is not None else []
            if digest is not None:
                matches.append(col(CaseImportRow.content_hash) == digest)
            if matches:
                same.append(and_(col(CaseImportRow.office_id) == office_id, or_(*matches)))
        scrubbed = await self._session.execute(
            update(CaseImportRow)
            .where(col(CaseImportRow.outcome) != RowOutcome.PENDING, or_(*same))
            .values(cells=None, external_id=None, content_hash=None, beneficiary_id=None, case_id=None)
        )
        return int(scrubbed.rowcount)  # type: ignore[attr-defined]

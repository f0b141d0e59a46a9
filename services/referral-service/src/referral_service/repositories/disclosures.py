from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from sqlalchemy import select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from referral_service.domain.models import Disclosure, SnapshotRedaction


class Disclosures:
    """The disclosure ledger and the redactions applied after withdrawals."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, disclosure: Disclosure) -> None:
        self._session.add(disclosure)

    async def of_referral(self, referral_id: UUID) -> list[Disclosure]:
        rows = await self._session.scalars(
            select(Disclosure)
            .where(col(Disclosure.referral_id) == referral_id)
            .order_by(col(Disclosure.disclosed_at), col(Disclosure.id))
        )
        return list(rows.all())

    async def page_of_case(self, case_id: UUID, *, after: tuple[datetime, UUID] | None, limit: int) -> list[Disclosure]:
        """Oldest first; (disclosed_at, id) is the stable keyset."""
        query = select(Disclosure).where(col(Disclosure.case_id) == case_id)
        if after is not None:
            query = query.where(tuple_(col(Disclosure.disclosed_at), col(Disclosure.id)) > tuple_(*after))
        query = query.order_by(col(Disclosure.disclosed_at), col(Disclosure.id)).limit(limit + 1)
        return list((await self._session.scalars(query)).all())

    async def of_cases(self, case_ids: Iterable[UUID]) -> list[Disclosure]:
        """Every disclosure of these cases, in the order they happened: the holders of copies."""
        rows = await self._session.scalars(
            select(Disclosure)
            .where(col(Disclosure.case_id).in_(list(case_ids)), col(Disclosure.erased_at).is_(None))
            .order_by(col(Disclosure.disclosed_at), col(Disclosure.id))
        )
        return list(rows.all())

    async def erase(self, case_ids: Iterable[UUID], *, now: datetime) -> int:
        """Keep to whom and when; drop what and under which consent."""
        result = await self._session.execute(
            update(Disclosure)
            .where(col(Disclosure.case_id).in_(list(case_ids)), col(Disclosure.erased_at).is_(None))
            .values(categories=[], consents={}, erased_at=now)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def record_redaction(self, redaction: SnapshotRedaction) -> bool:
        """True only the first time this withdrawal redacts this referral."""
        inserted = await self._session.scalar(
            insert(SnapshotRedaction)
            .values(**redaction.model_dump())
            .on_conflict_do_nothing()
            .returning(col(SnapshotRedaction.referral_id))
        )
        return inserted is not None

    async def redactions(self, referral_id: UUID) -> list[SnapshotRedaction]:
        rows = await self._session.scalars(
            select(SnapshotRedaction)
            .where(col(SnapshotRedaction.referral_id) == referral_id)
            .order_by(col(SnapshotRedaction.redacted_at))
        )
        return list(rows.all())

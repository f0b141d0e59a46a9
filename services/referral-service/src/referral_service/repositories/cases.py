from collections.abc import Iterable
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from referral_service.domain.models import CaseProjection


class Cases:
    """The case projection fed by the case events (opened, closed, transferred)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, case_id: UUID, *, for_update: bool = False) -> CaseProjection | None:
        return await self._session.get(CaseProjection, case_id, with_for_update=for_update)

    async def upsert_if_newer(self, case: CaseProjection) -> None:
        """Events arrive at least once and in order per case only; a stale version never overwrites."""
        values = case.model_dump()
        statement = insert(CaseProjection).values(**values)
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=["case_id"],
                set_={k: statement.excluded[k] for k in values if k not in {"case_id", "closed_at"}},
                where=CaseProjection.__table__.c.case_version < statement.excluded.case_version,  # type: ignore[attr-defined]
            )
        )

    async def of_beneficiary(self, beneficiary_id: UUID) -> list[UUID]:
        rows = await self._session.scalars(
            select(col(CaseProjection.case_id)).where(col(CaseProjection.beneficiary_id) == beneficiary_id)
        )
        return list(rows.all())

    async def link_beneficiary(self, case_ids: Iterable[UUID], beneficiary_id: UUID) -> None:
        """Consent events name the beneficiary's cases: that also links cases projected before the link existed."""
        await self._session.execute(
            update(CaseProjection)
            .where(col(CaseProjection.case_id).in_(list(case_ids)), col(CaseProjection.beneficiary_id).is_(None))
            .values(beneficiary_id=beneficiary_id)
        )

from uuid import UUID

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from referral_service.domain.models import CaseProjection


class Cases:
    """The case-ownership projection fed by `casebridge.case.opened.v1`."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, case_id: UUID) -> CaseProjection | None:
        return await self._session.get(CaseProjection, case_id)

    async def upsert_if_newer(self, case: CaseProjection) -> None:
        """Events arrive at least once and in order per case only; a stale version never overwrites."""
        values = case.model_dump()
        statement = insert(CaseProjection).values(**values)
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=["case_id"],
                set_={k: statement.excluded[k] for k in values if k != "case_id"},
                where=CaseProjection.__table__.c.case_version < statement.excluded.case_version,  # type: ignore[attr-defined]
            )
        )

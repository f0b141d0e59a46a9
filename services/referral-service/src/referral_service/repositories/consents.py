from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from casebridge_common.access import ACTIVE_CONSENT, ConsentStatus
from referral_service.domain.models import ConsentProjection


class Consents:
    """The consent projection fed by `casebridge.consent.events.v1`."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, consent_id: UUID) -> ConsentProjection | None:
        return await self._session.get(ConsentProjection, consent_id)

    async def upsert_given(self, consent: ConsentProjection) -> None:
        """A consent that has ended (withdrawn, narrowed, expired) is never brought back by a late copy."""
        values = consent.model_dump()
        statement = insert(ConsentProjection).values(**values)
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=["consent_id"],
                set_={k: statement.excluded[k] for k in values if k != "consent_id"},
                where=col(ConsentProjection.status).in_(sorted(ACTIVE_CONSENT)),
            )
        )

    async def end(self, consent: ConsentProjection, *, status: ConsentStatus) -> None:
        """Move a consent to `status`; one never seen before is recorded as ended, with the withdrawn terms."""
        values = consent.model_dump() | {"status": status}
        statement = insert(ConsentProjection).values(**values)
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=["consent_id"],
                set_={"status": status, "ended_at": consent.ended_at, "updated_at": consent.updated_at},
            )
        )

    async def of_beneficiary(self, beneficiary_id: UUID) -> list[ConsentProjection]:
        """Oldest first, as the access policy expects."""
        rows = await self._session.scalars(
            select(ConsentProjection)
            .where(col(ConsentProjection.beneficiary_id) == beneficiary_id)
            .order_by(col(ConsentProjection.valid_from), col(ConsentProjection.consent_id))
        )
        return list(rows.all())

    async def purge(self, beneficiary_id: UUID) -> int:
        result = await self._session.execute(
            delete(ConsentProjection).where(col(ConsentProjection.beneficiary_id) == beneficiary_id)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

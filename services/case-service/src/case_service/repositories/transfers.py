"""Case transfers. A transfer is visible to its two offices only, so every office-facing query filters on them."""

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from sqlalchemy import bindparam, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from case_service.domain.transfers import CaseTransfer, TransferRole, TransferStatus

# run by every read of a case its owner makes (service_layer/access.reader_projection): built once, not per call
_OF_CASE = (
    select(CaseTransfer)
    .where(col(CaseTransfer.case_id) == bindparam("case_id"))
    .order_by(col(CaseTransfer.proposed_at), col(CaseTransfer.id))
)


class Transfers:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, transfer: CaseTransfer) -> None:
        self._session.add(transfer)

    async def get_visible(self, transfer_id: UUID, *, office_id: str, for_update: bool = False) -> CaseTransfer | None:
        """The transfer if ``office_id`` sent it or is its proposed recipient; under a row lock when asked."""
        query = select(CaseTransfer).where(
            col(CaseTransfer.id) == transfer_id,
            or_(col(CaseTransfer.from_office_id) == office_id, col(CaseTransfer.to_office_id) == office_id),
        )
        if for_update:  # re-read under the lock: the row may have changed since this session first loaded it
            query = query.with_for_update().execution_options(populate_existing=True)
        return (await self._session.scalars(query)).one_or_none()

    async def pending_of_case(self, case_id: UUID) -> CaseTransfer | None:
        return (
            await self._session.scalars(
                select(CaseTransfer).where(
                    col(CaseTransfer.case_id) == case_id, col(CaseTransfer.status) == TransferStatus.PROPOSED
                )
            )
        ).one_or_none()

    async def of_case(self, case_id: UUID) -> list[CaseTransfer]:
        return list((await self._session.scalars(_OF_CASE, {"case_id": case_id})).all())

    async def accepted_of(self, case_ids: Iterable[UUID]) -> dict[UUID, list[CaseTransfer]]:
        """The accepted transfers of these cases (the handovers that made their owners), by case."""
        ids = list(case_ids)
        if not ids:
            return {}
        query = select(CaseTransfer).where(
            col(CaseTransfer.case_id).in_(ids), col(CaseTransfer.status) == TransferStatus.ACCEPTED
        )
        found: dict[UUID, list[CaseTransfer]] = {}
        for transfer in (await self._session.scalars(query)).all():
            found.setdefault(transfer.case_id, []).append(transfer)
        return found

    async def page(
        self,
        *,
        office_id: str,
        role: TransferRole | None,
        status: TransferStatus | None,
        after: tuple[datetime, UUID] | None,
        limit: int,
    ) -> list[CaseTransfer]:
        """Newest proposal first, ``id`` last so the order is stable; limit + 1 rows signal a next page."""
        if role is TransferRole.INCOMING:
            query = select(CaseTransfer).where(col(CaseTransfer.to_office_id) == office_id)
        elif role is TransferRole.OUTGOING:
            query = select(CaseTransfer).where(col(CaseTransfer.from_office_id) == office_id)
        else:
            query = select(CaseTransfer).where(
                or_(col(CaseTransfer.from_office_id) == office_id, col(CaseTransfer.to_office_id) == office_id)
            )
        if status is not None:
            query = query.where(col(CaseTransfer.status) == status)
        if after is not None:
            query = query.where(tuple_(col(CaseTransfer.proposed_at), col(CaseTransfer.id)) < after)
        query = query.order_by(col(CaseTransfer.proposed_at).desc(), col(CaseTransfer.id).desc()).limit(limit + 1)
        return list((await self._session.scalars(query)).all())

    async def claim_due(self, *, now: datetime, limit: int) -> list[CaseTransfer]:
        """Pending transfers whose reminder or deadline has come, locked; rows another worker holds are skipped,
        so two workers never handle the same transfer."""
        query = (
            select(CaseTransfer)
            .where(
                col(CaseTransfer.status) == TransferStatus.PROPOSED,
                or_(
                    col(CaseTransfer.respond_by) <= now,
                    (col(CaseTransfer.reminded_at).is_(None)) & (col(CaseTransfer.remind_at) <= now),
                ),
            )
            .order_by(col(CaseTransfer.respond_by), col(CaseTransfer.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list((await self._session.scalars(query)).all())

    async def claim_pending(self) -> list[CaseTransfer]:
        """Every pending transfer, locked, skipping rows another worker holds."""
        query = (
            select(CaseTransfer)
            .where(col(CaseTransfer.status) == TransferStatus.PROPOSED)
            .order_by(col(CaseTransfer.id))
            .with_for_update(skip_locked=True)
        )
        return list((await self._session.scalars(query)).all())

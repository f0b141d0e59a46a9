"""Consent records of a beneficiary, the withdrawals holders must act on, and their acknowledgements."""

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from sqlalchemy import bindparam, exists, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from case_service.domain.consent import (
    ConsentReceiptRecord,
    ConsentRecord,
    ConsentWithdrawal,
    OverdueWithdrawalReceipt,
    WithdrawalAcknowledgement,
    WithdrawalStatus,
)
from case_service.domain.models import Beneficiary, Case
from casebridge_common.access import ACTIVE_CONSENT, ConsentFacts

# run by every read of a case (service_layer/access.many_case_facts): built once, not per call
_RECORDS_OF_MANY = (
    select(ConsentRecord)
    .where(col(ConsentRecord.beneficiary_id).in_(bindparam("beneficiary_ids", expanding=True)))
    .order_by(col(ConsentRecord.recorded_at), col(ConsentRecord.id))
)


class ConsentRecords:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, record: ConsentRecord) -> None:
        self._session.add(record)

    async def get(self, consent_id: UUID) -> ConsentRecord | None:
        return await self._session.get(ConsentRecord, consent_id)

    async def get_for_update(self, consent_id: UUID) -> ConsentRecord | None:
        """The record under a row lock: writers serialise on the version check."""
        return (
            await self._session.scalars(
                select(ConsentRecord).where(col(ConsentRecord.id) == consent_id).with_for_update()
            )
        ).one_or_none()

    async def history_of(self, beneficiary_id: UUID) -> list[ConsentRecord]:
        """Every record of the beneficiary, oldest first."""
        query = (
            select(ConsentRecord)
            .where(col(ConsentRecord.beneficiary_id) == beneficiary_id)
            .order_by(col(ConsentRecord.recorded_at), col(ConsentRecord.id))
        )
        return list((await self._session.scalars(query)).all())

    async def page_of(
        self, beneficiary_id: UUID, *, after: tuple[datetime, UUID] | None, limit: int
    ) -> list[ConsentRecord]:
        """Oldest first, `id` last so the order is stable; limit + 1 rows signal a next page."""
        query = select(ConsentRecord).where(col(ConsentRecord.beneficiary_id) == beneficiary_id)
        if after is not None:
            query = query.where(tuple_(col(ConsentRecord.recorded_at), col(ConsentRecord.id)) > after)
        query = query.order_by(col(ConsentRecord.recorded_at), col(ConsentRecord.id)).limit(limit + 1)
        return list((await self._session.scalars(query)).all())

    async def add_receipt(self, receipt: ConsentReceiptRecord) -> None:
        # The receipt references its record, and without an ORM relationship the flush would not order them.
        await self._session.flush()
        self._session.add(receipt)

    async def receipt(self, consent_id: UUID, version: int | None) -> ConsentReceiptRecord | None:
        """The receipt issued for that version of the record; the latest without a version."""
        query = select(ConsentReceiptRecord).where(col(ConsentReceiptRecord.consent_id) == consent_id)
        if version is not None:
            query = query.where(col(ConsentReceiptRecord.consent_version) == version)
        query = query.order_by(col(ConsentReceiptRecord.consent_version).desc()).limit(1)
        return (await self._session.scalars(query)).one_or_none()

    async def superseding(self, consent_id: UUID) -> ConsentRecord | None:
        """The record that replaced this one by renewal or narrowing, if any."""
        return (
            await self._session.scalars(select(ConsentRecord).where(col(ConsentRecord.supersedes) == consent_id))
        ).one_or_none()

    async def case_ids_of(self, beneficiary_id: UUID) -> list[UUID]:
        """The beneficiary's cases, whichever office owns them now: what holders key their copies on."""
        query = select(col(Case.id)).where(col(Case.beneficiary_id) == beneficiary_id).order_by(col(Case.opened_at))
        return list((await self._session.scalars(query)).all())

    async def beneficiary_of(self, record: ConsentRecord) -> Beneficiary:
        """The beneficiary the record is about, whoever asks: for the worker's jobs, which act for no office."""
        beneficiary = await self._session.get(Beneficiary, record.beneficiary_id)
        assert beneficiary is not None  # noqa: S101 - consent_records.beneficiary_id is a foreign key
        return beneficiary

    async def facts_of(self, beneficiary_id: UUID) -> tuple[ConsentFacts, ...]:
        """What the access policy reads: every record of the beneficiary as ConsentFacts, oldest first."""
        return tuple(record.to_facts() for record in await self.history_of(beneficiary_id))

    async def facts_of_many(self, beneficiary_ids: Iterable[UUID]) -> dict[UUID, tuple[ConsentFacts, ...]]:
        """`facts_of` for a page of beneficiaries in one query; a beneficiary without records maps to ()."""
        wanted = set(beneficiary_ids)
        if not wanted:
            return {}
        facts: dict[UUID, list[ConsentFacts]] = {beneficiary_id: [] for beneficiary_id in wanted}
        for record in (await self._session.scalars(_RECORDS_OF_MANY, {"beneficiary_ids": list(wanted)})).all():
            facts[record.beneficiary_id].append(record.to_facts())
        return {beneficiary_id: tuple(found) for beneficiary_id, found in facts.items()}

    async def lapsed(self, now: datetime, *, limit: int) -> list[ConsentRecord]:
        """Records still in force by status whose validity ended, locked and skipped by concurrent sweepers."""
        query = (
            select(ConsentRecord)
            .where(
                col(ConsentRecord.status).in_(ACTIVE_CONSENT),
                col(ConsentRecord.valid_until).is_not(None),
                col(ConsentRecord.valid_until) <= now,
            )
            .order_by(col(ConsentRecord.valid_until), col(ConsentRecord.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list((await self._session.scalars(query)).all())


class ConsentWithdrawals:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, withdrawal: ConsentWithdrawal) -> None:
        self._session.add(withdrawal)

    async def get(self, withdrawal_id: UUID) -> ConsentWithdrawal | None:
        return await self._session.get(ConsentWithdrawal, withdrawal_id)

    async def get_of_office(self, withdrawal_id: UUID, *, office_id: str) -> ConsentWithdrawal | None:
        return (
            await self._session.scalars(
                select(ConsentWithdrawal).where(
                    col(ConsentWithdrawal.id) == withdrawal_id, col(ConsentWithdrawal.owner_office_id) == office_id
                )
            )
        ).one_or_none()

    async def of_consent(self, consent_id: UUID) -> list[ConsentWithdrawal]:
        query = (
            select(ConsentWithdrawal)
            .where(col(ConsentWithdrawal.consent_id) == consent_id)
            .order_by(col(ConsentWithdrawal.withdrawn_at), col(ConsentWithdrawal.id))
        )
        return list((await self._session.scalars(query)).all())

    async def page_of_office(
        self,
        *,
        office_id: str,
        status: WithdrawalStatus | None,
        now: datetime,
        after: tuple[datetime, UUID] | None,
        limit: int,
    ) -> list[ConsentWithdrawal]:
        """Newest first, `id` last so the order is stable; limit + 1 rows signal a next page."""
        query = select(ConsentWithdrawal).where(col(ConsentWithdrawal.owner_office_id) == office_id)
        if status is not None:
            # the same rule as domain.consent.withdrawal_status, in SQL so that pages stay keyset pages
            acknowledged = (
                select(func.count(func.distinct(col(WithdrawalAcknowledgement.holder))))
                .where(
                    col(WithdrawalAcknowledgement.withdrawal_id) == col(ConsentWithdrawal.id),
                    col(ConsentWithdrawal.expected_holders).op("?")(col(WithdrawalAcknowledgement.holder)),
                )
                .correlate(ConsentWithdrawal)
                .scalar_subquery()
            )
            complete = acknowledged >= func.jsonb_array_length(col(ConsentWithdrawal.expected_holders))
            if status is WithdrawalStatus.COMPLETE:
                query = query.where(complete)
            elif status is WithdrawalStatus.OVERDUE:
                query = query.where(~complete, col(ConsentWithdrawal.acknowledge_by) <= now)
            else:
                query = query.where(~complete, col(ConsentWithdrawal.acknowledge_by) > now)
        if after is not None:
            query = query.where(tuple_(col(ConsentWithdrawal.withdrawn_at), col(ConsentWithdrawal.id)) < after)
        query = query.order_by(col(ConsentWithdrawal.withdrawn_at).desc(), col(ConsentWithdrawal.id).desc())
        return list((await self._session.scalars(query.limit(limit + 1))).all())

    async def acknowledgements_of(self, withdrawal_ids: list[UUID]) -> list[WithdrawalAcknowledgement]:
        if not withdrawal_ids:
            return []
        query = (
            select(WithdrawalAcknowledgement)
            .where(col(WithdrawalAcknowledgement.withdrawal_id).in_(withdrawal_ids))
            .order_by(col(WithdrawalAcknowledgement.acknowledged_at), col(WithdrawalAcknowledgement.holder))
        )
        return list((await self._session.scalars(query)).all())

    async def acknowledge(self, acknowledgement: WithdrawalAcknowledgement) -> bool:
        """Record a holder's acknowledgement once; False when that holder already acknowledged this withdrawal."""
        statement = (
            insert(WithdrawalAcknowledgement)
            .values(
                id=acknowledgement.id,
                withdrawal_id=acknowledgement.withdrawal_id,
                holder=acknowledgement.holder,
                purged=acknowledgement.purged,
                redacted=acknowledgement.redacted,
                acknowledged_at=acknowledgement.acknowledged_at,
            )
            .on_conflict_do_nothing(index_elements=["withdrawal_id", "holder"])
        )
        result = await self._session.execute(statement)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def claim_overdue(self, now: datetime, *, limit: int) -> list[ConsentWithdrawal]:
        """Withdrawals past their deadline with an expected holder that neither acknowledged nor was reported,
        oldest deadline first, locked; rows another worker holds are skipped."""
        holders = func.jsonb_array_elements_text(col(ConsentWithdrawal.expected_holders)).table_valued("value")
        # both correlated to the outer withdrawal: uncorrelated, they would read "acknowledged any withdrawal"
        answered = (
            select(col(WithdrawalAcknowledgement.holder))
            .where(col(WithdrawalAcknowledgement.withdrawal_id) == col(ConsentWithdrawal.id))
            .correlate(ConsentWithdrawal)
        )
        reported = (
            select(col(OverdueWithdrawalReceipt.holder))
            .where(col(OverdueWithdrawalReceipt.withdrawal_id) == col(ConsentWithdrawal.id))
            .correlate(ConsentWithdrawal)
        )
        unanswered = (
            exists()
            .select_from(holders)
            .where(holders.c.value.not_in(answered), holders.c.value.not_in(reported))
            .correlate(ConsentWithdrawal)
        )
        query = (
            select(ConsentWithdrawal)
            .where(col(ConsentWithdrawal.acknowledge_by) <= now, unanswered)
            .order_by(col(ConsentWithdrawal.acknowledge_by), col(ConsentWithdrawal.id))
            .limit(limit)
            .with_for_update(of=ConsentWithdrawal, skip_locked=True)
        )
        return list((await self._session.scalars(query)).all())

    async def overdue_reports_of(self, withdrawal_ids: list[UUID]) -> list[OverdueWithdrawalReceipt]:
        if not withdrawal_ids:
            return []
        query = (
            select(OverdueWithdrawalReceipt)
            .where(col(OverdueWithdrawalReceipt.withdrawal_id).in_(withdrawal_ids))
            .order_by(col(OverdueWithdrawalReceipt.reported_at), col(OverdueWithdrawalReceipt.holder))
        )
        return list((await self._session.scalars(query)).all())

    async def report_overdue(self, report: OverdueWithdrawalReceipt) -> bool:
        """Record that a holder's receipt is overdue, once; False when it was reported before (by any worker)."""
        statement = (
            insert(OverdueWithdrawalReceipt)
            .values(
                withdrawal_id=report.withdrawal_id,
                holder=report.holder,
                acknowledge_by=report.acknowledge_by,
                reported_at=report.reported_at,
            )
            .on_conflict_do_nothing(index_elements=["withdrawal_id", "holder"])
        )
        result = await self._session.execute(statement)
        return bool(result.rowcount)  # type: ignore[attr-defined]

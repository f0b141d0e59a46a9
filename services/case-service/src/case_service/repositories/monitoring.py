from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from case_service.domain.assessments import Plan
from case_service.domain.monitoring import MonitoringProfilePending


class MonitoringProfiles:
    """What the case's monitoring profile needs beyond the records: its version, and the first plan approval."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lock(self, case_id: UUID) -> None:
        """The case's profile lock, held until commit: profiling and marking a case pending serialise on it."""
        await self._session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended('case-monitoring-profile:' || :case_id, 0))"),
            {"case_id": str(case_id)},
        )

    async def lock_and_reload(self, case_id: UUID) -> None:
        """The profile lock, then forget what this session loaded: a transaction that held the lock (a consent
        withdrawn, a beneficiary changed) may have committed while waiting, and a profile built from rows loaded
        before would carry a higher version than its own with older facts."""
        await self.lock(case_id)
        await self._session.flush()
        self._session.expire_all()

    async def next_version(self, case_id: UUID) -> int:
        """A version greater than any the case's profile had: the next value of a sequence, drawn after a
        per-case lock held until commit, so that profiles of one case are versioned in commit order and each is
        built from what the one before committed."""
        await self.lock(case_id)
        version = await self._session.scalar(text("SELECT nextval('case_monitoring_profile_versions')"))
        return int(version)

    async def first_plan_approval(self, case_id: UUID, *, before: datetime | None = None) -> datetime | None:
        query = select(func.min(col(Plan.approved_at))).where(col(Plan.case_id) == case_id)
        if before is not None:
            query = query.where(col(Plan.approved_at) < before)
        return await self._session.scalar(query)

    async def pending(self, case_id: UUID) -> MonitoringProfilePending | None:
        return await self._session.get(MonitoringProfilePending, case_id)

    async def mark_pending(self, mark: MonitoringProfilePending) -> None:
        """Under the profile lock, so that a publication running now either sees this transaction's change or
        leaves the mark for the next run. A case already pending keeps its first `since` and published timeline
        (of which the date of return and return profile are kept; the plan approvals are those before `since`)."""
        await self.lock(mark.case_id)
        await self._session.execute(
            insert(MonitoringProfilePending)
            .values(**mark.model_dump())
            .on_conflict_do_nothing(index_elements=[col(MonitoringProfilePending.case_id)])
        )

    async def claim_due(self, *, before: datetime, limit: int) -> list[UUID]:
        """Up to `limit` cases pending since before `before`, in case id order, row-locked until commit; rows
        another publication holds are skipped, so concurrent runs share the backlog and none publishes a case
        twice. Never in `since` order: the batch's order (and its versions) would tell when in the week each case
        changed. Case id order is also the order `emit_profiles_of` takes the per-case locks in (no deadlock)."""
        rows = await self._session.scalars(
            select(col(MonitoringProfilePending.case_id))
            .where(col(MonitoringProfilePending.since) < before)
            .order_by(col(MonitoringProfilePending.case_id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(rows)

    async def clear_pending(self, case_ids: list[UUID]) -> None:
        """Drop the marks (published, or the cases' beneficiary erased). Without the profile lock: a publication
        takes it after its row locks, so an erasure waits on the row a running publication claimed (and finds it
        gone) or removes it before the publication can claim it."""
        if case_ids:
            await self._session.execute(
                delete(MonitoringProfilePending).where(col(MonitoringProfilePending.case_id).in_(case_ids))
            )

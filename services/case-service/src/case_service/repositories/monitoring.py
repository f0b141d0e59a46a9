from datetime import datetime
from uuid import UUID

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from case_service.domain.assessments import Plan


class MonitoringProfiles:
    """What the case's monitoring profile needs beyond the records: its version, and the first plan approval."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def next_version(self, case_id: UUID) -> int:
        """A version greater than any the case's profile had: the next value of a sequence, drawn after a
        per-case lock held until commit, so that profiles of one case are versioned in commit order and each is
        built from what the one before committed."""
        await self._session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended('case-monitoring-profile:' || :case_id, 0))"),
            {"case_id": str(case_id)},
        )
        version = await self._session.scalar(text("SELECT nextval('case_monitoring_profile_versions')"))
        return int(version)

    async def first_plan_approval(self, case_id: UUID) -> datetime | None:
        return await self._session.scalar(select(func.min(col(Plan.approved_at))).where(col(Plan.case_id) == case_id))

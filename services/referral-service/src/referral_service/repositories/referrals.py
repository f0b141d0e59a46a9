from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from casebridge_common.events.contracts.referral import Deadline, ServiceCategory, Urgency
from referral_service.domain.deadlines import PENDING_WHILE
from referral_service.domain.lifecycle import OPEN, ReferralStatus
from referral_service.domain.models import FallbackRedirect, MissedDeadline, Referral
from referral_service.domain.scorecards import ScorecardCounts


@dataclass(frozen=True, slots=True)
class ReferralFilter:
    status: ReferralStatus | None = None
    category: ServiceCategory | None = None
    urgency: Urgency | None = None
    case_id: UUID | None = None
    case_closed: bool | None = None  # True: referrals whose case was closed while they were open


def addressed_to(organisation_id: str, office_id: str | None) -> ColumnElement[bool]:
    """The SQL twin of `relation_to(...) == DESTINATION`."""
    conditions = [
        col(Referral.status) != ReferralStatus.DRAFT,
        col(Referral.destination_organisation_id) == organisation_id,
    ]
    if office_id is not None:
        conditions.append(
            or_(col(Referral.destination_office_id).is_(None), col(Referral.destination_office_id) == office_id)
        )
    return and_(*conditions)


class Referrals:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, referral: Referral) -> None:
        self._session.add(referral)

    async def insert(self, referral: Referral) -> None:
        """Adds and writes the row now, so that rows updated later in the transaction may refer to it."""
        self._session.add(referral)
        await self._session.flush()

    def add_redirect(self, decision: FallbackRedirect) -> None:
        self._session.add(decision)

    async def redirect_of(self, referral_id: UUID) -> FallbackRedirect | None:
        return await self._session.get(FallbackRedirect, referral_id)

    async def get(self, referral_id: UUID, *, for_update: bool = False) -> Referral | None:
        return await self._session.get(Referral, referral_id, with_for_update=for_update)

    async def of_cases(self, case_ids: Iterable[UUID]) -> list[Referral]:
        """Every referral of these cases, locked, in a fixed order so that concurrent writers cannot deadlock."""
        rows = await self._session.scalars(
            select(Referral)
            .where(col(Referral.case_id).in_(list(case_ids)))
            .order_by(col(Referral.id))
            .with_for_update()
        )
        return list(rows.all())

    async def page(
        self,
        where: ColumnElement[bool],
        filters: ReferralFilter,
        *,
        after: tuple[datetime, UUID] | None,
        limit: int,
    ) -> list[Referral]:
        """Newest first; (created_at, id) is the stable keyset."""
        query = select(Referral).where(where)
        if filters.status is not None:
            query = query.where(col(Referral.status) == filters.status)
        if filters.category is not None:
            query = query.where(col(Referral.category) == filters.category)
        if filters.urgency is not None:
            query = query.where(col(Referral.urgency) == filters.urgency)
        if filters.case_id is not None:
            query = query.where(col(Referral.case_id) == filters.case_id)
        if filters.case_closed is not None:
            closed = col(Referral.case_closed_at)
            query = query.where(closed.is_not(None) if filters.case_closed else closed.is_(None))
        if after is not None:
            query = query.where(tuple_(col(Referral.created_at), col(Referral.id)) < tuple_(*after))
        query = query.order_by(col(Referral.created_at).desc(), col(Referral.id).desc()).limit(limit + 1)
        return list((await self._session.scalars(query)).all())

    async def due_for_review(self, *, now: datetime, expiry: timedelta, limit: int) -> list[Referral]:
        """Open referrals with a passed deadline not yet recorded as missed, or past their expiry; locked, and
        a second worker skips them rather than wait."""
        due_columns = {
            Deadline.ACKNOWLEDGE: col(Referral.acknowledge_due_at),
            Deadline.FIRST_CONTACT: col(Referral.first_contact_due_at),
            Deadline.OUTCOME: col(Referral.outcome_due_at),
        }
        pending = [
            and_(
                col(Referral.status).in_(sorted(PENDING_WHILE[deadline])),
                column <= now,
                ~exists().where(
                    col(MissedDeadline.referral_id) == col(Referral.id), col(MissedDeadline.deadline) == deadline
                ),
            )
            for deadline, column in due_columns.items()
        ]
        expiring = and_(
            col(Referral.status).in_([ReferralStatus.REQUESTED, ReferralStatus.RECEIVED]),
            col(Referral.sent_at) <= now - expiry,
        )
        query = (
            select(Referral)
            .where(col(Referral.status).in_(sorted(OPEN)), or_(*pending, expiring))
            .order_by(col(Referral.sent_at), col(Referral.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list((await self._session.scalars(query)).all())

    async def missed(self, referral_id: UUID) -> set[Deadline]:
        rows = await self._session.scalars(
            select(col(MissedDeadline.deadline)).where(col(MissedDeadline.referral_id) == referral_id)
        )
        return set(rows.all())

    async def record_missed(self, referral_id: UUID, deadline: Deadline, *, due_at: datetime, now: datetime) -> bool:
        """True only the first time for this (referral, deadline)."""
        inserted = await self._session.scalar(
            insert(MissedDeadline)
            .values(referral_id=referral_id, deadline=deadline, due_at=due_at, detected_at=now)
            .on_conflict_do_nothing()
            .returning(col(MissedDeadline.referral_id))
        )
        return inserted is not None

    async def completion_rates(self, organisation_ids: list[str], *, since: datetime) -> dict[str, float]:
        """completed / accepted per destination organisation, for referrals sent since `since`."""
        rows = await self._session.execute(
            select(
                col(Referral.destination_organisation_id),
                func.count(col(Referral.completed_at)),
                func.count(col(Referral.accepted_at)),
            )
            .where(col(Referral.destination_organisation_id).in_(organisation_ids), col(Referral.sent_at) >= since)
            .group_by(col(Referral.destination_organisation_id))
        )
        return {org: completed / accepted for org, completed, accepted in rows.all() if accepted}

    async def scorecard_counts(self, organisation_id: str, *, since: datetime, until: datetime) -> ScorecardCounts:
        return await _scorecard_counts(self._session, organisation_id, since=since, until=until)


def _median(expression: ColumnElement[float | Decimal]) -> ColumnElement[float | Decimal]:
    return func.percentile_cont(0.5).within_group(expression)


async def _scorecard_counts(
    session: AsyncSession, organisation_id: str, *, since: datetime, until: datetime
) -> ScorecardCounts:
    """Referrals sent to the organisation in [since, until): counts, deadline misses and median times."""
    missed = (
        select(
            col(MissedDeadline.referral_id),
            func.bool_or(col(MissedDeadline.deadline) == Deadline.ACKNOWLEDGE).label("acknowledge"),
            func.bool_or(col(MissedDeadline.deadline) == Deadline.OUTCOME).label("outcome"),
        )
        .group_by(col(MissedDeadline.referral_id))
        .subquery()
    )
    to_acknowledge = func.extract("epoch", col(Referral.acknowledged_at) - col(Referral.sent_at)) / 3600
    to_complete = func.extract("epoch", col(Referral.completed_at) - col(Referral.sent_at)) / 86400
    row = (
        await session.execute(
            select(
                func.count(),
                func.count(col(Referral.acknowledged_at)),
                func.count(col(Referral.accepted_at)),
                func.count(col(Referral.declined_at)),
                func.count(col(Referral.completed_at)),
                func.count().filter(missed.c.acknowledge.is_(True)),
                func.count().filter(missed.c.outcome.is_(True)),
                _median(to_acknowledge),
                _median(to_complete),
            )
            .select_from(Referral)
            .outerjoin(missed, missed.c.referral_id == col(Referral.id))
            .where(
                col(Referral.destination_organisation_id) == organisation_id,
                col(Referral.sent_at) >= since,
                col(Referral.sent_at) < until,
            )
        )
    ).one()
    sent, acknowledged, accepted, declined, completed, ack_missed, outcome_missed, ack_hours, complete_days = row
    return ScorecardCounts(
        sent=sent,
        acknowledged=acknowledged,
        accepted=accepted,
        declined=declined,
        completed=completed,
        acknowledge_deadlines_missed=ack_missed,
        outcome_deadlines_missed=outcome_missed,
        median_hours_to_acknowledge=round(float(ack_hours), 2) if ack_hours is not None else None,
        median_days_to_complete=round(float(complete_days), 2) if complete_days is not None else None,
    )

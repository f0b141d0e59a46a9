"""Shares, referral links and break-glass grants, and the SQL form of "related to the case" for lists."""

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from sqlalchemy import BindParameter, ColumnElement, CompoundSelect, bindparam, exists, or_, select, union
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from case_service.domain.models import Case
from case_service.domain.sharing import BreakGlassGrant, CaseReferralLink, CaseShare
from casebridge_common.auth import Principal


def related_to(who: Principal, now: datetime) -> ColumnElement[bool]:
    """Cases the caller owns, holds an active share of, is the destination of an active referral of, or holds
    an active break-glass grant for. The policy (`project`) narrows this further: it is the superset a list
    query scans, so a page and its cursor are computed over rows the caller may be shown."""
    share = exists().where(
        col(CaseShare.case_id) == col(Case.id),
        col(CaseShare.office_id) == who.office_id,
        col(CaseShare.revoked_at).is_(None),
        or_(col(CaseShare.expires_at).is_(None), col(CaseShare.expires_at) > now),
    )
    destinations = [col(CaseReferralLink.destination_office_id) == who.office_id]
    if who.organisation_id is not None:
        destinations.append(col(CaseReferralLink.destination_organisation_id) == who.organisation_id)
    referral = exists().where(
        col(CaseReferralLink.case_id) == col(Case.id), col(CaseReferralLink.active).is_(True), or_(*destinations)
    )
    grant = exists().where(
        col(BreakGlassGrant.case_id) == col(Case.id),
        col(BreakGlassGrant.subject) == who.subject,
        col(BreakGlassGrant.office_id).is_not_distinct_from(who.office_id),
        col(BreakGlassGrant.expires_at) > now,
    )
    return or_(col(Case.owner_office_id) == who.office_id, share, referral, grant)


def related_elsewhere(who: Principal, now: datetime) -> CompoundSelect[UUID]:
    """The ids of cases the caller does not own but holds an active share of, is the destination of an active
    referral of, or holds an active break-glass grant for: `related_to` without the owner branch, as a set the
    planner can build from the small relation tables instead of probing them once per case."""
    destinations = [col(CaseReferralLink.destination_office_id) == who.office_id]
    if who.organisation_id is not None:
        destinations.append(col(CaseReferralLink.destination_organisation_id) == who.organisation_id)
    return union(
        select(col(CaseShare.case_id)).where(
            col(CaseShare.office_id) == who.office_id,
            col(CaseShare.revoked_at).is_(None),
            or_(col(CaseShare.expires_at).is_(None), col(CaseShare.expires_at) > now),
        ),
        select(col(CaseReferralLink.case_id)).where(col(CaseReferralLink.active).is_(True), or_(*destinations)),
        select(col(BreakGlassGrant.case_id)).where(
            col(BreakGlassGrant.subject) == who.subject,
            col(BreakGlassGrant.office_id).is_not_distinct_from(who.office_id),
            col(BreakGlassGrant.expires_at) > now,
        ),
    )


# What every read of a case loads for the access policy (service_layer/access.many_case_facts), built once: a
# statement made per call cost more to build than to run. `case_ids` expands to the page's ids.
_CASE_IDS: BindParameter[list[UUID]] = bindparam("case_ids", expanding=True)
_ACTIVE_SHARES = (
    select(CaseShare)
    .where(
        col(CaseShare.case_id).in_(_CASE_IDS),
        col(CaseShare.revoked_at).is_(None),
        or_(col(CaseShare.expires_at).is_(None), col(CaseShare.expires_at) > bindparam("now")),
    )
    .order_by(col(CaseShare.granted_at))
)
_ACTIVE_LINKS = (
    select(CaseReferralLink)
    .where(col(CaseReferralLink.case_id).in_(_CASE_IDS), col(CaseReferralLink.active).is_(True))
    .order_by(col(CaseReferralLink.updated_at))
)
_ACTIVE_GRANTS = (
    select(BreakGlassGrant)
    .where(col(BreakGlassGrant.case_id).in_(_CASE_IDS), col(BreakGlassGrant.expires_at) > bindparam("now"))
    .order_by(col(BreakGlassGrant.granted_at))
)


class Shares:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, share: CaseShare) -> None:
        self._session.add(share)

    async def get(self, case_id: UUID, share_id: UUID, *, for_update: bool = False) -> CaseShare | None:
        query = select(CaseShare).where(col(CaseShare.case_id) == case_id, col(CaseShare.id) == share_id)
        if for_update:
            query = query.with_for_update()
        return (await self._session.scalars(query)).one_or_none()

    async def of_case(self, case_id: UUID) -> list[CaseShare]:
        """Every share of the case, revoked and expired ones included, oldest first."""
        query = (
            select(CaseShare)
            .where(col(CaseShare.case_id) == case_id)
            .order_by(col(CaseShare.granted_at), col(CaseShare.id))
        )
        return list((await self._session.scalars(query)).all())

    async def active_of(self, case_ids: Iterable[UUID], now: datetime) -> list[CaseShare]:
        ids = list(case_ids)
        if not ids:
            return []
        return list((await self._session.scalars(_ACTIVE_SHARES, {"case_ids": ids, "now": now})).all())


class ReferralLinks:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def upsert(self, link: CaseReferralLink) -> None:
        """Insert, or update when this event is newer than the one the row holds (at-least-once, any order)."""
        values = {
            "referral_id": link.referral_id,
            "case_id": link.case_id,
            "destination_organisation_id": link.destination_organisation_id,
            "destination_office_id": link.destination_office_id,
            "active": link.active,
            "referral_version": link.referral_version,
            "updated_at": link.updated_at,
        }
        statement = insert(CaseReferralLink).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=["referral_id"],
            set_={k: statement.excluded[k] for k in values if k != "referral_id"},
            where=col(CaseReferralLink.referral_version) < statement.excluded.referral_version,
        )
        await self._session.execute(statement)

    async def get(self, referral_id: UUID) -> CaseReferralLink | None:
        return await self._session.get(CaseReferralLink, referral_id)

    async def active_of(self, case_ids: Iterable[UUID]) -> list[CaseReferralLink]:
        ids = list(case_ids)
        if not ids:
            return []
        return list((await self._session.scalars(_ACTIVE_LINKS, {"case_ids": ids})).all())


class BreakGlassGrants:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, grant: BreakGlassGrant) -> None:
        self._session.add(grant)

    async def active_of(self, case_ids: Iterable[UUID], now: datetime) -> list[BreakGlassGrant]:
        """Unexpired grants; the policy only honours the one its holder presents (`BreakGlassFacts.held_by`)."""
        ids = list(case_ids)
        if not ids:
            return []
        return list((await self._session.scalars(_ACTIVE_GRANTS, {"case_ids": ids, "now": now})).all())

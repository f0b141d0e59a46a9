"""Queries of the data-subject rights: erasure records, legal holds, and everything held about one person."""

from typing import cast
from uuid import UUID

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute, defer
from sqlmodel import col

from case_service.domain.consent import ConsentRecord
from case_service.domain.documents import CaseDocument
from case_service.domain.follow_ups import FollowUpVisit
from case_service.domain.models import Beneficiary, Case
from case_service.domain.sharing import CaseReferralLink
from case_service.domain.subject_rights import BeneficiaryErasure, LegalHold
from casebridge_common.audit import AuditEntry


class SubjectRecords:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def beneficiary(self, beneficiary_id: UUID, *, for_update: bool = False) -> Beneficiary | None:
        """Unfiltered: the service layer decides whether the caller's office may act for this person."""
        query = select(Beneficiary).where(col(Beneficiary.id) == beneficiary_id)
        if for_update:
            query = query.with_for_update()
        return (await self._session.scalars(query)).one_or_none()

    async def cases_of(self, beneficiary_id: UUID, *, for_update: bool = False) -> list[Case]:
        query = (
            select(Case).where(col(Case.beneficiary_id) == beneficiary_id).order_by(col(Case.opened_at), col(Case.id))
        )
        if for_update:
            query = query.with_for_update()
        return list((await self._session.scalars(query)).all())

    async def documents_of(self, case_id: UUID) -> list[CaseDocument]:
        """Every document of the case, soft-deleted ones included (their sealed data stays until erasure), oldest
        first, without the content."""
        query = (
            select(CaseDocument)
            .options(defer(cast(QueryableAttribute[bytes], CaseDocument.sealed_content)))
            .where(col(CaseDocument.case_id) == case_id)
            .order_by(col(CaseDocument.uploaded_at), col(CaseDocument.id))
        )
        return list((await self._session.scalars(query)).all())

    async def follow_ups_of(self, case_id: UUID) -> list[FollowUpVisit]:
        """Every follow-up visit of the case, cancelled ones included, earliest planned first."""
        query = (
            select(FollowUpVisit)
            .where(col(FollowUpVisit.case_id) == case_id)
            .order_by(col(FollowUpVisit.planned_on), col(FollowUpVisit.id))
        )
        return list((await self._session.scalars(query)).all())

    async def referral_links_of(self, case_ids: list[UUID]) -> list[CaseReferralLink]:
        """Every referral of the cases that case-service heard of, closed ones included."""
        query = select(CaseReferralLink).where(col(CaseReferralLink.case_id).in_(case_ids))
        return list((await self._session.scalars(query.order_by(col(CaseReferralLink.updated_at)))).all())

    async def erasure(self, beneficiary_id: UUID) -> BeneficiaryErasure | None:
        return await self._session.get(BeneficiaryErasure, beneficiary_id)

    def add_erasure(self, erasure: BeneficiaryErasure) -> None:
        self._session.add(erasure)

    def add_hold(self, hold: LegalHold) -> None:
        self._session.add(hold)

    async def hold(self, beneficiary_id: UUID, hold_id: UUID, *, for_update: bool = False) -> LegalHold | None:
        query = select(LegalHold).where(col(LegalHold.beneficiary_id) == beneficiary_id, col(LegalHold.id) == hold_id)
        if for_update:
            query = query.with_for_update()
        return (await self._session.scalars(query)).one_or_none()

    async def holds(self, beneficiary_id: UUID, *, active_only: bool) -> list[LegalHold]:
        query = select(LegalHold).where(col(LegalHold.beneficiary_id) == beneficiary_id)
        if active_only:
            query = query.where(col(LegalHold.released_at).is_(None))
        return list((await self._session.scalars(query.order_by(col(LegalHold.placed_at), col(LegalHold.id)))).all())

    async def anonymise_consents(self, beneficiary_id: UUID) -> None:
        """Names and words of other people in the consent history (a guardian's name, the child's own views, the
        interpreter) go; the terms, dates and statuses stay as the record of what was authorised."""
        await self._session.execute(
            update(ConsentRecord)
            .where(col(ConsentRecord.beneficiary_id) == beneficiary_id)
            .values(given_by_name=None, child_views=None, interpreter=None, version=col(ConsentRecord.version) + 1)
        )

    async def audit_of(self, case_ids: list[UUID], resource_ids: list[UUID]) -> list[AuditEntry]:
        """Audit entries about the person's cases or records, oldest first."""
        ids = [str(i) for i in [*case_ids, *resource_ids]]
        query = select(AuditEntry).where(
            or_(col(AuditEntry.case_id).in_(case_ids), col(AuditEntry.resource_id).in_(ids))
        )
        return list((await self._session.scalars(query.order_by(col(AuditEntry.at), col(AuditEntry.id)))).all())

"""Assistance items and their tranches. Only the owning office writes."""

from datetime import datetime
from uuid import UUID

from case_service.domain.assistance import (
    AssistanceItem,
    AssistanceStatus,
    Tranche,
    all_delivered,
    deliver,
    dimension_of,
    tranches_of,
    version_of,
)
from case_service.domain.errors import AssistanceClosed, AssistanceNotFound, CaseNotActive, PlanItemNotFound
from case_service.domain.models import Case
from case_service.domain.stages import is_active
from case_service.schemas import AddAssistance, AssistanceRead, CloseAssistance, RecordDelivery
from case_service.schemas.access import Withheld
from case_service.service_layer.access import reader_projection, visible_case, writable_case_and_facts
from case_service.service_layer.projection import assistance_read, audit_read, returned_and_withheld, withheld
from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.access import DataCategory, Projection, Purpose
from casebridge_common.audit import AuditAction
from casebridge_common.auth import Principal
from casebridge_common.events.contracts.case import CaseAssistanceDelivered
from casebridge_common.http import require_if_match
from casebridge_common.problems import PreconditionFailed


async def _case(
    uow: CaseUnitOfWork, case_id: UUID, category: DataCategory, actor: Principal, *, now: datetime
) -> tuple[Case, Projection]:
    case, facts, _ = await writable_case_and_facts(uow, case_id, category, actor=actor, now=now)
    return case, await reader_projection(uow, actor, facts, Purpose.CASE_MANAGEMENT, now=now)


def _stored(tranches: list[Tranche]) -> list[dict[str, str | int | None]]:
    return [
        {
            "number": t.number,
            "amount": str(t.amount),
            "due_on": t.due_on.isoformat(),
            "delivered_on": None if t.delivered_on is None else t.delivered_on.isoformat(),
        }
        for t in tranches
    ]


async def add_assistance(
    uow: CaseUnitOfWork, case_id: UUID, command: AddAssistance, *, actor: Principal, now: datetime
) -> AssistanceRead:
    case, projection = await _case(uow, case_id, DataCategory.ASSISTANCE, actor, now=now)
    if not is_active(case.stage):
        raise CaseNotActive(stage=case.stage)
    link = command.plan_item
    if link is not None:  # a caller who may not see the plan learns nothing of it: every link is "not found"
        may_see_plan = DataCategory.REINTEGRATION_PLAN in projection.allowed
        plan = await uow.plans.get(case.id, link.plan_version) if may_see_plan else None
        items = [] if plan is None else plan.content.get("items")
        if not isinstance(items, list) or link.item >= len(items):
            raise PlanItemNotFound(pointer="#/plan_item", plan_version=link.plan_version, item=link.item)
    item = AssistanceItem(
        case_id=case.id,
        assistance_type=command.assistance_type,
        dimension=dimension_of(command.assistance_type),
        modality=command.modality,
        amount=command.amount,
        currency=command.currency,
        provider=command.provider,
        plan_version=None if link is None else link.plan_version,
        plan_item=None if link is None else link.item,
        status=AssistanceStatus.PLANNED,
        tranches=_stored(
            [
                Tranche(n, t.amount, t.due_on, None)
                for n, t in enumerate(sorted(command.tranches, key=lambda t: t.due_on), 1)
            ]
        ),
        created_at=now,
    )
    uow.assistance.add(item)
    uow.audit.record(
        actor,
        AuditAction.CREATE,
        resource_type="assistance_item",
        resource_id=item.id,
        case_id=case.id,
        categories=[DataCategory.ASSISTANCE, DataCategory.FINANCIAL_PAYMENTS],
    )
    return assistance_read(item, projection)[0]


async def _open_item(
    uow: CaseUnitOfWork, case: Case, item_id: UUID, if_match: str | None, projection: Projection
) -> AssistanceItem:
    """The item to change; with `if_match`, 412 when the item moved on since, naming its current version only
    to a caller who may see it (it counts the deliveries: `financial_payments`)."""
    item = await uow.assistance.get(case.id, item_id)
    if item is None:
        raise AssistanceNotFound(assistance_item_id=item_id)
    if if_match is not None:
        try:
            require_if_match(if_match, version_of(item))
        except PreconditionFailed:
            if assistance_read(item, projection)[0].version is None:
                raise PreconditionFailed() from None
            raise
    if item.status is not AssistanceStatus.PLANNED:
        raise AssistanceClosed(status=item.status)
    return item


async def record_delivery(
    uow: CaseUnitOfWork,
    case_id: UUID,
    item_id: UUID,
    command: RecordDelivery,
    *,
    actor: Principal,
    now: datetime,
    if_match: str | None = None,
) -> AssistanceRead:
    """Hand over the next tranche. Emits `case.assistance_delivered`; the last tranche delivers the item."""
    case, projection = await _case(uow, case_id, DataCategory.FINANCIAL_PAYMENTS, actor, now=now)
    item = await _open_item(uow, case, item_id, if_match, projection)
    tranches = deliver(tranches_of(item), command.tranche_number, command.delivered_on, today=now.date())
    item.tranches = _stored(tranches)
    if all_delivered(tranches):
        item.status = AssistanceStatus.DELIVERED
    uow.outbox.emit(
        CaseAssistanceDelivered(
            case_id=case.id,
            assistance_item_id=item.id,
            assistance_type=item.assistance_type,
            modality=item.modality,
            tranche_number=command.tranche_number,
            item_fully_delivered=item.status is AssistanceStatus.DELIVERED,
            owner_office_id=case.owner_office_id,
            delivered_on=command.delivered_on,
        )
    )
    uow.audit.record(
        actor,
        AuditAction.UPDATE,
        resource_type="assistance_item",
        resource_id=item.id,
        case_id=case.id,
        categories=[DataCategory.FINANCIAL_PAYMENTS],
    )
    return assistance_read(item, projection)[0]


async def close_assistance(
    uow: CaseUnitOfWork,
    case_id: UUID,
    item_id: UUID,
    command: CloseAssistance,
    *,
    actor: Principal,
    now: datetime,
    if_match: str | None = None,
) -> AssistanceRead:
    """Cancel an item, or record it as an unmet need (reintegration.md S6: unmet needs are recorded)."""
    case, projection = await _case(uow, case_id, DataCategory.ASSISTANCE, actor, now=now)
    item = await _open_item(uow, case, item_id, if_match, projection)
    item.status = command.status
    uow.audit.record(
        actor,
        AuditAction.UPDATE,
        resource_type="assistance_item",
        resource_id=item.id,
        case_id=case.id,
        categories=[DataCategory.ASSISTANCE],
    )
    return assistance_read(item, projection)[0]


async def list_assistance(
    uow: CaseUnitOfWork,
    case_id: UUID,
    *,
    actor: Principal,
    purpose: Purpose,
    now: datetime,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> tuple[list[AssistanceRead], list[Withheld]]:
    """Up to limit + 1 items in the order they were planned, as the caller may see them."""
    case, _, projection = await visible_case(
        uow, case_id, actor=actor, purpose=purpose, now=now, resource_type="assistance_item"
    )
    found = await uow.assistance.page(case.id, after=after, limit=limit)
    reads = [assistance_read(i, projection) for i in found]
    returned, kept_back = returned_and_withheld(view for _, view in reads[:limit])  # not the next page's row
    audit_read(
        uow,
        actor,
        AuditAction.LIST,
        resource_type="assistance_item",
        resource_id=case.id,
        case_id=case.id,
        projection=projection,
        purpose=purpose,
        returned=returned,
    )
    return [r for r, _ in reads], withheld(projection, kept_back)


async def read_assistance(
    uow: CaseUnitOfWork, case_id: UUID, item_id: UUID, *, actor: Principal, purpose: Purpose, now: datetime
) -> AssistanceRead:
    """One item as the caller may see it (the server copy a device is sent back on a conflict)."""
    case, _, projection = await visible_case(
        uow, case_id, actor=actor, purpose=purpose, now=now, resource_type="assistance_item"
    )
    item = await uow.assistance.get(case.id, item_id)
    if item is None:
        raise AssistanceNotFound(assistance_item_id=item_id)
    read, view = assistance_read(item, projection)
    audit_read(
        uow,
        actor,
        AuditAction.VIEW,
        resource_type="assistance_item",
        resource_id=item.id,
        case_id=case.id,
        projection=projection,
        purpose=purpose,
        returned=set(view.returned),
    )
    return read

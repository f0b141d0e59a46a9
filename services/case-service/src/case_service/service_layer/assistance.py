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
)
from case_service.domain.errors import AssistanceClosed, AssistanceNotFound, CaseNotActive, CaseNotFound
from case_service.domain.models import Case
from case_service.domain.stages import is_active
from case_service.schemas import AddAssistance, AssistanceRead, CloseAssistance, RecordDelivery, TrancheRead
from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.audit import AuditAction
from casebridge_common.auth import Principal
from casebridge_common.events.contracts.case import CaseAssistanceDelivered


def _office(actor: Principal) -> str:
    assert actor.office_id is not None  # noqa: S101 - the routers require an office claim
    return actor.office_id


async def _case(uow: CaseUnitOfWork, case_id: UUID, actor: Principal, *, write: bool) -> Case:
    lookup = uow.cases.get_writable if write else uow.cases.get_visible
    case = await lookup(case_id, office_id=_office(actor))
    if case is None:
        raise CaseNotFound(case_id=case_id)
    return case


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


def assistance_read(item: AssistanceItem) -> AssistanceRead:
    return AssistanceRead(
        id=item.id,
        case_id=item.case_id,
        assistance_type=item.assistance_type,
        dimension=item.dimension,
        modality=item.modality,
        amount=item.amount,
        currency=item.currency,
        provider=item.provider,
        status=item.status,
        tranches=[
            TrancheRead(number=t.number, amount=t.amount, due_on=t.due_on, delivered_on=t.delivered_on)
            for t in tranches_of(item)
        ],
        created_at=item.created_at,
    )


async def add_assistance(
    uow: CaseUnitOfWork, case_id: UUID, command: AddAssistance, *, actor: Principal, now: datetime
) -> AssistanceItem:
    case = await _case(uow, case_id, actor, write=True)
    if not is_active(case.stage):
        raise CaseNotActive(stage=case.stage)
    item = AssistanceItem(
        case_id=case.id,
        assistance_type=command.assistance_type,
        dimension=dimension_of(command.assistance_type),
        modality=command.modality,
        amount=command.amount,
        currency=command.currency,
        provider=command.provider,
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
    uow.audit.record(actor, AuditAction.CREATE, resource_type="assistance_item", resource_id=item.id)
    return item


async def _open_item(uow: CaseUnitOfWork, case: Case, item_id: UUID) -> AssistanceItem:
    item = await uow.assistance.get(case.id, item_id)
    if item is None:
        raise AssistanceNotFound(assistance_item_id=item_id)
    if item.status is not AssistanceStatus.PLANNED:
        raise AssistanceClosed(status=item.status)
    return item


async def record_delivery(
    uow: CaseUnitOfWork, case_id: UUID, item_id: UUID, command: RecordDelivery, *, actor: Principal
) -> AssistanceItem:
    """Hand over the next tranche. Emits `case.assistance_delivered`; the last tranche delivers the item."""
    case = await _case(uow, case_id, actor, write=True)
    item = await _open_item(uow, case, item_id)
    tranches = deliver(tranches_of(item), command.tranche_number, command.delivered_on)
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
    uow.audit.record(actor, AuditAction.UPDATE, resource_type="assistance_item", resource_id=item.id)
    return item


async def close_assistance(
    uow: CaseUnitOfWork, case_id: UUID, item_id: UUID, command: CloseAssistance, *, actor: Principal
) -> AssistanceItem:
    """Cancel an item, or record it as an unmet need (reintegration.md S6: unmet needs are recorded)."""
    case = await _case(uow, case_id, actor, write=True)
    item = await _open_item(uow, case, item_id)
    item.status = command.status
    uow.audit.record(actor, AuditAction.UPDATE, resource_type="assistance_item", resource_id=item.id)
    return item


async def list_assistance(uow: CaseUnitOfWork, case_id: UUID, *, actor: Principal) -> list[AssistanceRead]:
    case = await _case(uow, case_id, actor, write=False)
    uow.audit.record(actor, AuditAction.LIST, resource_type="assistance_item", resource_id=case.id)
    return [assistance_read(i) for i in await uow.assistance.of_case(case.id)]

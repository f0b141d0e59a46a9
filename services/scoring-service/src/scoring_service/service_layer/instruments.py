from datetime import datetime

from casebridge_common.auth import Principal
from scoring_service.domain.errors import (
    InstrumentInvalid,
    InstrumentNotFound,
    InstrumentVersionExists,
)
from scoring_service.domain.instruments import InstrumentDocument, InstrumentStatus, check_instrument
from scoring_service.domain.models import Instrument, InstrumentRecord
from scoring_service.instruments import checksum, shipped
from scoring_service.unit_of_work import ScoringUnitOfWork


def _record(document: InstrumentDocument, *, organisation_id: str | None, now: datetime) -> InstrumentRecord:
    return InstrumentRecord(
        code=document.code,
        version=document.version,
        kind=document.kind,
        title=document.title,
        status=document.status,
        document=document.model_dump(mode="json", by_alias=True),
        checksum=checksum(document),
        loaded_by_organisation_id=organisation_id,
        loaded_at=now,
    )


async def load_shipped(uow: ScoringUnitOfWork, *, now: datetime) -> list[str]:
    """Insert every shipped version that is not there yet; safe to run from several processes at once."""
    loaded = []
    for document in shipped():
        if await uow.instruments.add_if_absent(_record(document, organisation_id=None, now=now)):
            loaded.append(f"{document.code}/{document.version}")
    return loaded


async def load_instrument(
    uow: ScoringUnitOfWork, document: InstrumentDocument, *, actor: Principal, now: datetime
) -> InstrumentRecord:
    """An organisation's own version (for example IOM's official calculator values). Never replaces a version."""
    problems = [p.model_dump() for p in check_instrument(document)]
    if document.code not in set(Instrument):
        problems.append({"pointer": "#/code", "detail": f"one of {', '.join(Instrument)}"})
    if document.status is InstrumentStatus.CASEBRIDGE_DEFAULT:
        problems.append({"pointer": "#/status", "detail": "only shipped versions are CaseBridge defaults"})
    if problems:
        raise InstrumentInvalid(f"{len(problems)} problem(s) in the instrument document", errors=problems)
    record = _record(document, organisation_id=actor.organisation_id, now=now)
    if not await uow.instruments.add_if_absent(record):
        raise InstrumentVersionExists(instrument=document.code, instrument_version=document.version)
    return record


async def get_instrument(uow: ScoringUnitOfWork, code: str, version: str) -> InstrumentRecord:
    record = await uow.instruments.get(code, version)
    if record is None:
        raise InstrumentNotFound(instrument=code, instrument_version=version)
    return record

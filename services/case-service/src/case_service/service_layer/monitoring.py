"""The pseudonymous monitoring feed (`casebridge.case.monitoring_profile.v1`) for M&E consumers.

A use case that changes the case's timeline (arrival, plan approval, return profile) only marks the case pending
(:func:`defer_profile`); :func:`publish_pending_profiles` publishes it in the week after, so that the time of
publication does not tell the day of return. The others emit at once (:func:`emit_profile`): a consent or
personal fact must reach consumers without delay, above all when it nulls facts."""

from datetime import datetime
from uuid import UUID

from case_service.domain.models import Case, is_minor
from case_service.domain.monitoring import Timeline, monitoring_profile, publication_cutoff
from case_service.unit_of_work import CaseUnitOfWork

OPENING_VERSION = 0


async def emit_profile(
    uow: CaseUnitOfWork, case: Case, *, now: datetime, opened: bool = False, publishing: bool = False
) -> None:
    """Emit the case's monitoring profile as it stands in this transaction. Call it last in a use case that may
    change a profiled fact: it takes the case's profile lock until commit. While the case is pending, its
    timeline and return profile are the ones last published (the weekly publication, `publishing`, takes the
    current ones, and skips an erased beneficiary's case). `opened`: the case was created in this transaction, so
    no other transaction can profile it before this one commits and it has no plan yet: its first profile is
    version 0, below any version a later profile draws (no lock, no sequence), with its return profile but no
    timeline (a date of return given at opening is published by the weekly job)."""
    version = OPENING_VERSION if opened else await uow.monitoring.next_version(case.id)
    beneficiary = await uow.beneficiaries.get(case.beneficiary_id)
    if beneficiary is None:
        return
    if publishing and await uow.subject_records.erasure(beneficiary.id) is not None:
        return
    pending = None if opened or publishing else await uow.monitoring.pending(case.id)
    if opened:
        timeline = Timeline.of(case, returned_on=None, first_plan_approved_at=None)
    elif pending is None:
        plan_approved_at = await uow.monitoring.first_plan_approval(case.id)
        timeline = Timeline.of(case, returned_on=case.returned_on, first_plan_approved_at=plan_approved_at)
    else:
        plan_approved_at = await uow.monitoring.first_plan_approval(case.id, before=pending.since)
        timeline = pending.published(first_plan_approved_at=plan_approved_at)
    uow.outbox.emit(
        monitoring_profile(
            case,
            beneficiary,
            await uow.consents.facts_of(beneficiary.id),
            subject_is_minor=is_minor(beneficiary.born_on, now.date()),
            timeline=timeline,
            version=version,
            now=now,
        )
    )


async def emit_profiles_of(uow: CaseUnitOfWork, beneficiary_id: UUID, *, now: datetime) -> None:
    """:func:`emit_profile` for every case of the beneficiary (a consent or a personal fact changed). The
    beneficiary is locked first, as `open_case` locks it: a case opened concurrently is either listed here or
    profiled after this transaction's consents are visible to it."""
    await uow.beneficiaries.lock(beneficiary_id)
    for case in sorted(await uow.cases.of_beneficiary(beneficiary_id), key=lambda c: c.id):
        await emit_profile(uow, case, now=now)


async def defer_profile(uow: CaseUnitOfWork, case: Case, *, now: datetime, opened: bool = False) -> None:
    """Mark the case pending for the weekly publication instead of emitting its profile now. Call it before the
    change: the date of return and return profile it keeps are the published ones (the opening profile's, without
    a date of return, for a case `opened` in this transaction). Idempotent; an immediate emission meanwhile leaves
    the mark, so the change is still published the week after."""
    published = Timeline.of(case, returned_on=None if opened else case.returned_on, first_plan_approved_at=None)
    await uow.monitoring.mark_pending(case.id, since=now, published=published)


async def publish_pending_profiles(uow: CaseUnitOfWork, *, now: datetime, limit: int) -> int:
    """Emit the current profile of up to `limit` cases pending since before this ISO week and clear their marks.
    Each case is loaded only after its profile lock, so a change committing meanwhile is either in the profile or
    marks the case again. Returns how many cases were published; a larger backlog drains over the next runs."""
    due = await uow.monitoring.claim_due(before=publication_cutoff(now), limit=limit)
    for case_id in due:
        await uow.monitoring.lock_and_reload(case_id)
        case = await uow.cases.get(case_id)
        if case is not None:
            await emit_profile(uow, case, now=now, publishing=True)
    await uow.monitoring.clear_pending(due)
    return len(due)

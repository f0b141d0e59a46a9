"""The pseudonymous monitoring feed (`casebridge.case.monitoring_profile.v1`) for M&E consumers.

A new case (:func:`opening_mark`) and a use case that changes the case's timeline (arrival, plan approval, return
profile) only mark the case pending (:func:`defer_profile`); :func:`publish_pending_profiles` publishes it in the
week after, so that the time of publication tells neither the day of opening nor the day of return. The others
emit at once (:func:`emit_profile`): a consent or personal fact must reach consumers without delay, above all when
it nulls facts."""

from datetime import datetime
from uuid import UUID

from case_service.domain.models import Case, is_minor
from case_service.domain.monitoring import MonitoringProfilePending, Timeline, monitoring_profile, publication_cutoff
from case_service.unit_of_work import CaseUnitOfWork

_UNPUBLISHED = Timeline(
    returned_on=None, first_plan_approved_at=None, mode_of_return=None, host_country=None, length_of_absence_years=None
)


def opening_mark(case: Case, *, now: datetime) -> MonitoringProfilePending:
    """The mark of a case opened now: its first profile waits for the weekly publication, as a change of its
    timeline would. Published at once, its time (the CloudEvent `time`, the Kafka timestamp) would date the
    opening, and a case opened on arrival is opened on the day of return. Until then nothing of its timeline or
    return profile counts as published: a profile emitted at once meanwhile (a consent given the same week)
    carries none of it."""
    return MonitoringProfilePending.of(case.id, since=now, published=_UNPUBLISHED)


async def emit_profile(uow: CaseUnitOfWork, case: Case, *, now: datetime, publishing: bool = False) -> None:
    """Emit the case's monitoring profile as it stands in this transaction. Call it last in a use case that may
    change a profiled fact: it takes the case's profile lock until commit. While the case is pending, its
    timeline and return profile are the ones last published (the weekly publication, `publishing`, takes the
    current ones, and skips an erased beneficiary's case). A case opened in this transaction is marked by
    :func:`opening_mark` instead."""
    version = await uow.monitoring.next_version(case.id)
    beneficiary = await uow.beneficiaries.get(case.beneficiary_id)
    if beneficiary is None:
        return
    if publishing and await uow.subject_records.erasure(beneficiary.id) is not None:
        return
    pending = None if publishing else await uow.monitoring.pending(case.id)
    if pending is None:
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
    beneficiary is locked first, as an opening locks it: a case opened concurrently is either listed here or
    opens after this commits (its first profile, weekly, is then built from this transaction's consents)."""
    await uow.beneficiaries.lock_for_reprofiling(beneficiary_id)
    for case in sorted(await uow.cases.of_beneficiary(beneficiary_id), key=lambda c: c.id):
        await emit_profile(uow, case, now=now)


async def defer_profile(uow: CaseUnitOfWork, case: Case, *, now: datetime) -> None:
    """Mark the case pending for the weekly publication instead of emitting its profile now. Call it before the
    change: the date of return and return profile it keeps are the published ones. Idempotent; an immediate
    emission meanwhile leaves the mark, so the change is still published the week after."""
    published = Timeline.of(case, returned_on=case.returned_on, first_plan_approved_at=None)
    await uow.monitoring.mark_pending(MonitoringProfilePending.of(case.id, since=now, published=published))


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

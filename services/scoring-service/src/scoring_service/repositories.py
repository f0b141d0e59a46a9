from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Table, and_, delete, exists, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import SQLModel, col

from casebridge_common.events.contracts.case import Programme, quarter
from casebridge_common.events.contracts.scoring import Administration, ScoreKind
from scoring_service.domain.indicators import NOT_SCREENED, Profile, ScoreFact, TimelineFact
from scoring_service.domain.instruments import InstrumentDocument
from scoring_service.domain.models import (
    AnalysisExclusion,
    BeneficiaryErasure,
    CaseMonitoringProfileRecord,
    CaseRecord,
    InstrumentRecord,
    ScheduleStatus,
    Score,
    Survey,
    SurveySchedule,
    WithdrawalReceipt,
)

# Instrument versions are immutable, so a parsed document stays valid for the life of the process.
_PARSED: dict[tuple[str, str, str], InstrumentDocument] = {}


async def _insert_many(session: AsyncSession, rows: Sequence[SQLModel]) -> None:
    """New rows of one table in one Core INSERT (executemany), for a batch: the ORM's flush bookkeeping per
    object cost a quarter of a large batch. The objects stay transient: nothing tracks them after this."""
    if not rows:
        return
    table: Table = type(rows[0]).__table__  # type: ignore[attr-defined]
    names = [column.key for column in table.columns]
    values: list[dict[str, Any]] = [{name: getattr(row, name) for name in names} for row in rows]
    await session.execute(insert(table), values)


class SurveySchedules:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, schedule: SurveySchedule) -> None:
        self._session.add(schedule)

    async def insert_many(self, schedules: Sequence[SurveySchedule]) -> None:
        await _insert_many(self._session, schedules)

    async def for_case(self, case_id: UUID, *, office_id: str | None = None) -> list[SurveySchedule]:
        query = select(SurveySchedule).where(col(SurveySchedule.case_id) == case_id)
        if office_id is not None:
            query = query.where(col(SurveySchedule.owner_office_id) == office_id)
        return list(
            (await self._session.scalars(query.order_by(col(SurveySchedule.due_on), col(SurveySchedule.id)))).all()
        )

    async def open_for_case(self, case_id: UUID) -> list[SurveySchedule]:
        """Schedules not yet completed, locked: a concurrent submission for the same case waits."""
        query = (
            select(SurveySchedule)
            .where(
                col(SurveySchedule.case_id) == case_id,
                col(SurveySchedule.status).in_([ScheduleStatus.DUE, ScheduleStatus.OVERDUE]),
            )
            .order_by(col(SurveySchedule.due_on), col(SurveySchedule.id))
            .with_for_update()
        )
        return list((await self._session.scalars(query)).all())

    async def open_for_cases(self, case_ids: list[UUID]) -> dict[UUID, list[SurveySchedule]]:
        """:meth:`open_for_case` for many cases in one query, locked in the same order."""
        query = (
            select(SurveySchedule)
            .where(
                col(SurveySchedule.case_id).in_(case_ids),
                col(SurveySchedule.status).in_([ScheduleStatus.DUE, ScheduleStatus.OVERDUE]),
            )
            .order_by(col(SurveySchedule.case_id), col(SurveySchedule.due_on), col(SurveySchedule.id))
            .with_for_update()
        )
        found: dict[UUID, list[SurveySchedule]] = {case_id: [] for case_id in case_ids}
        for schedule in (await self._session.scalars(query)).all():
            found[schedule.case_id].append(schedule)
        return found

    async def administrations_of_cases(self, case_ids: list[UUID]) -> dict[UUID, set[tuple[Administration, date]]]:
        """:meth:`administrations_of` for many cases in one query."""
        query = select(
            col(SurveySchedule.case_id), col(SurveySchedule.administration), col(SurveySchedule.due_on)
        ).where(col(SurveySchedule.case_id).in_(case_ids))
        found: dict[UUID, set[tuple[Administration, date]]] = {case_id: set() for case_id in case_ids}
        for row in (await self._session.execute(query)).all():
            found[row.case_id].add((row.administration, row.due_on))
        return found

    async def administrations_of(self, case_id: UUID) -> set[tuple[Administration, date]]:
        query = select(col(SurveySchedule.administration), col(SurveySchedule.due_on)).where(
            col(SurveySchedule.case_id) == case_id
        )
        return {(row.administration, row.due_on) for row in (await self._session.execute(query)).all()}

    async def hand_over_open(self, case_id: UUID, *, to_office_id: str) -> int:
        """Due and overdue schedules follow the case's new owner; completed ones stay as they happened."""
        result = await self._session.execute(
            update(SurveySchedule)
            .where(
                col(SurveySchedule.case_id) == case_id,
                col(SurveySchedule.status).in_([ScheduleStatus.DUE, ScheduleStatus.OVERDUE]),
            )
            .values(owner_office_id=to_office_id)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def purge_for_cases(self, case_ids: list[UUID]) -> int:
        result = await self._session.execute(delete(SurveySchedule).where(col(SurveySchedule.case_id).in_(case_ids)))
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def find_overdue(self, *, today: date, limit: int = 500) -> list[SurveySchedule]:
        query = (
            select(SurveySchedule)
            .where(col(SurveySchedule.status) == ScheduleStatus.DUE, col(SurveySchedule.due_on) < today)
            .order_by(col(SurveySchedule.due_on), col(SurveySchedule.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list((await self._session.scalars(query)).all())


class Cases:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_if_absent(self, case: CaseRecord) -> None:
        values = case.model_dump()
        await self._session.execute(insert(CaseRecord).values(**values).on_conflict_do_nothing())

    async def get(self, case_id: UUID, *, for_update: bool = False) -> CaseRecord | None:
        return await self._session.get(CaseRecord, case_id, with_for_update=for_update)

    async def get_many(self, case_ids: list[UUID]) -> dict[UUID, CaseRecord]:
        query = select(CaseRecord).where(col(CaseRecord.case_id).in_(case_ids))
        return {case.case_id: case for case in (await self._session.scalars(query)).all()}

    async def of_beneficiary(self, beneficiary_id: UUID, case_ids: list[UUID]) -> list[CaseRecord]:
        """The cases an event names, and any other case held for the same beneficiary; locked, in id order."""
        query = (
            select(CaseRecord)
            .where(or_(col(CaseRecord.case_id).in_(case_ids), col(CaseRecord.beneficiary_id) == beneficiary_id))
            .order_by(col(CaseRecord.case_id))
            .with_for_update()
        )
        return list((await self._session.scalars(query)).all())


class Exclusions:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_if_absent(self, exclusion: AnalysisExclusion) -> bool:
        """False when the case was already excluded (by an earlier withdrawal)."""
        inserted = await self._session.scalar(
            insert(AnalysisExclusion)
            .values(**exclusion.model_dump())
            .on_conflict_do_nothing()
            .returning(col(AnalysisExclusion.case_id))
        )
        return inserted is not None

    async def lift(self, case_ids: list[UUID]) -> list[UUID]:
        """Let the cases back into analysis; returns those that were excluded."""
        if not case_ids:
            return []
        lifted = await self._session.scalars(
            delete(AnalysisExclusion)
            .where(col(AnalysisExclusion.case_id).in_(case_ids))
            .returning(col(AnalysisExclusion.case_id))
        )
        return sorted(lifted.all())


class MonitoringProfiles:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, case_id: UUID, *, for_update: bool = False) -> CaseMonitoringProfileRecord | None:
        return await self._session.get(CaseMonitoringProfileRecord, case_id, with_for_update=for_update)

    def add(self, record: CaseMonitoringProfileRecord) -> None:
        self._session.add(record)

    async def purge_for_cases(self, case_ids: list[UUID]) -> int:
        result = await self._session.execute(
            delete(CaseMonitoringProfileRecord).where(col(CaseMonitoringProfileRecord.case_id).in_(case_ids))
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def _profile(record: CaseMonitoringProfileRecord | None) -> Profile:
    if record is None:
        return Profile()
    return Profile(
        sex=record.sex,
        age_group=record.age_group,
        country_of_origin=record.country_of_origin,
        country_of_return=record.country_of_return,
        mode_of_return=record.mode_of_return,
        host_country=record.host_country,
        length_of_absence=record.length_of_absence,
        return_quarter=record.return_quarter,
    )


class Receipts:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, receipt: WithdrawalReceipt) -> None:
        self._session.add(receipt)

    async def get(self, withdrawal_id: UUID) -> WithdrawalReceipt | None:
        return await self._session.get(WithdrawalReceipt, withdrawal_id)


class Erasures:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, erasure: BeneficiaryErasure) -> None:
        self._session.add(erasure)

    async def get(self, beneficiary_id: UUID) -> BeneficiaryErasure | None:
        return await self._session.get(BeneficiaryErasure, beneficiary_id)

    async def covers(self, *, case_id: UUID, beneficiary_id: UUID) -> bool:
        """Whether the beneficiary, or the case, was erased already (the erasure may overtake `case.opened`)."""
        query = select(
            exists().where(
                or_(
                    col(BeneficiaryErasure.beneficiary_id) == beneficiary_id,
                    col(BeneficiaryErasure.case_ids).any_() == case_id,
                )
            )
        )
        return bool(await self._session.scalar(query))


class Instruments:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_if_absent(self, record: InstrumentRecord) -> bool:
        inserted = await self._session.scalar(
            insert(InstrumentRecord)
            .values(**record.model_dump())
            .on_conflict_do_nothing()
            .returning(col(InstrumentRecord.code))
        )
        return inserted is not None

    async def get(self, code: str, version: str) -> InstrumentRecord | None:
        return await self._session.get(InstrumentRecord, (code, version))

    async def document(self, code: str, version: str) -> InstrumentDocument | None:
        record = await self.get(code, version)
        if record is None:
            return None
        key = (code, version, record.checksum)
        if key not in _PARSED:
            _PARSED[key] = InstrumentDocument.model_validate(record.document)
        return _PARSED[key]

    async def page(self, *, code: str | None, after: list[str] | None, limit: int) -> list[InstrumentRecord]:
        query = select(InstrumentRecord)
        if code is not None:
            query = query.where(col(InstrumentRecord.code) == code)
        if after is not None:
            query = query.where(tuple_(col(InstrumentRecord.code), col(InstrumentRecord.version)) > tuple(after))
        query = query.order_by(col(InstrumentRecord.code), col(InstrumentRecord.version)).limit(limit + 1)
        return list((await self._session.scalars(query)).all())


class Surveys:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, survey: Survey) -> None:
        self._session.add(survey)

    async def insert_many(self, surveys: Sequence[Survey]) -> None:
        await _insert_many(self._session, surveys)

    async def get(self, survey_id: UUID) -> Survey | None:
        return await self._session.get(Survey, survey_id)

    async def page(self, case_id: UUID, *, after: tuple[datetime, UUID] | None, limit: int) -> list[Survey]:
        query = select(Survey).where(col(Survey.case_id) == case_id)
        if after is not None:
            query = query.where(tuple_(col(Survey.created_at), col(Survey.id)) > after)
        query = query.order_by(col(Survey.created_at), col(Survey.id)).limit(limit + 1)
        return list((await self._session.scalars(query)).all())

    async def count_for_cases(self, case_ids: list[UUID]) -> int:
        query = select(func.count()).select_from(Survey).where(col(Survey.case_id).in_(case_ids))
        return int(await self._session.scalar(query) or 0)

    async def purge_for_cases(self, case_ids: list[UUID]) -> int:
        result = await self._session.execute(delete(Survey).where(col(Survey.case_id).in_(case_ids)))
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def all_for_case(self, case_id: UUID) -> list[Survey]:
        query = select(Survey).where(col(Survey.case_id) == case_id).order_by(col(Survey.created_at), col(Survey.id))
        return list((await self._session.scalars(query)).all())


class Scores:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, score: Score) -> None:
        self._session.add(score)

    async def insert_many(self, scores: Sequence[Score]) -> None:
        await _insert_many(self._session, scores)

    async def for_surveys(self, survey_ids: list[UUID]) -> list[Score]:
        if not survey_ids:
            return []
        query = (
            select(Score).where(col(Score.survey_id).in_(survey_ids)).order_by(col(Score.computed_at), col(Score.id))
        )
        return list((await self._session.scalars(query)).all())

    async def latest_primary(self, case_id: UUID, *, instrument_code: str) -> Score | None:
        query = (
            select(Score)
            .where(
                col(Score.case_id) == case_id,
                col(Score.instrument_code) == instrument_code,
                col(Score.kind) == ScoreKind.PRIMARY,
            )
            .order_by(col(Score.computed_at).desc(), col(Score.id).desc())
            .limit(1)
        )
        return (await self._session.scalars(query)).first()

    async def latest_primaries(self, case_ids: list[UUID]) -> dict[tuple[UUID, str], Score]:
        """:meth:`latest_primary` of every instrument for many cases in one query, keyed by (case, instrument)."""
        query = (
            select(Score)
            .where(col(Score.case_id).in_(case_ids), col(Score.kind) == ScoreKind.PRIMARY)
            .ext(distinct_on(col(Score.case_id), col(Score.instrument_code)))
            .order_by(
                col(Score.case_id), col(Score.instrument_code), col(Score.computed_at).desc(), col(Score.id).desc()
            )
        )
        return {(score.case_id, score.instrument_code): score for score in (await self._session.scalars(query)).all()}

    async def purge_for_cases(self, case_ids: list[UUID]) -> int:
        result = await self._session.execute(delete(Score).where(col(Score.case_id).in_(case_ids)))
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def exists(self, survey_id: UUID, *, instrument_code: str, instrument_version: str) -> Score | None:
        query = select(Score).where(
            col(Score.survey_id) == survey_id,
            col(Score.instrument_code) == instrument_code,
            col(Score.instrument_version) == instrument_version,
        )
        return (await self._session.scalars(query)).first()


class IndicatorFacts:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def facts(
        self,
        *,
        organisation_id: str,
        instrument_code: str,
        programme: Programme | None,
        interviewed_from: date | None,
        interviewed_to: date | None,
    ) -> list[ScoreFact]:
        """The organisation's administrations of one instrument with their primary scores; no answers, and the
        case id only for counting distinct cases.

        Cases excluded from analysis after a consent withdrawal, and erased ones, are left out."""
        primary = and_(col(Score.survey_id) == col(Survey.id), col(Score.kind) == ScoreKind.PRIMARY)
        excluded = exists().where(col(AnalysisExclusion.case_id) == col(Survey.case_id))
        latest_screening = aliased(Score)
        screened = (
            select(col(latest_screening.vulnerability_band))
            .where(
                col(latest_screening.case_id) == col(Survey.case_id),
                col(latest_screening.kind) == ScoreKind.PRIMARY,
                col(latest_screening.vulnerability_band).is_not(None),
            )
            .order_by(col(latest_screening.computed_at).desc(), col(latest_screening.id).desc())
            .limit(1)
            .correlate(Survey)
            .scalar_subquery()
        )
        query = (
            select(
                Survey,
                Score,
                col(CaseRecord.programme),
                col(CaseRecord.opened_at),
                screened,
                CaseMonitoringProfileRecord,
            )
            .join(CaseRecord, col(CaseRecord.case_id) == col(Survey.case_id))
            .outerjoin(Score, primary)
            .outerjoin(CaseMonitoringProfileRecord, col(CaseMonitoringProfileRecord.case_id) == col(Survey.case_id))
            .where(
                col(CaseRecord.owner_organisation_id) == organisation_id,
                col(CaseRecord.erased_at).is_(None),
                col(Survey.instrument_code) == instrument_code,
                ~excluded,
            )
        )
        if programme is not None:
            query = query.where(col(CaseRecord.programme) == programme)
        if interviewed_from is not None:
            query = query.where(col(Survey.interviewed_on) >= interviewed_from)
        if interviewed_to is not None:
            query = query.where(col(Survey.interviewed_on) <= interviewed_to)
        facts = []
        for survey, score, case_programme, opened_at, band, profile in (await self._session.execute(query)).all():
            facts.append(
                ScoreFact(
                    case_id=survey.case_id,
                    programme=str(case_programme),
                    office=survey.owner_office_id,
                    administration=str(survey.administration),
                    interviewed_on=survey.interviewed_on,
                    instrument_version=survey.instrument_version,
                    discarded=score is None,
                    composite=None if score is None else score.composite,
                    target_reached=None if score is None else score.target_reached,
                    low_accuracy=False if score is None else score.low_accuracy_flag,
                    opened_on=opened_at.date(),
                    vulnerability=NOT_SCREENED if band is None else str(band),
                    profile=_profile(profile),
                    dimensions=()
                    if score is None
                    else tuple(
                        (
                            str(d["dimension"]),
                            d["score"] if isinstance(d["score"], float | int) else None,
                            d["band"] if isinstance(d["band"], str) else None,
                        )
                        for d in score.dimensions
                    ),
                )
            )
        return facts

    async def timelines(
        self,
        *,
        organisation_id: str,
        programme: Programme | None,
        returned_from: date | None,
        returned_to: date | None,
    ) -> list[TimelineFact]:
        """The organisation's cases whose profile discloses the quarter of return and the days to the first plan
        approval, under the same exclusions as :meth:`facts`. The bounds are days; the quarters they fall in
        bound the quarter of return (the API admits whole quarters only)."""
        excluded = exists().where(col(AnalysisExclusion.case_id) == col(CaseRecord.case_id))
        query = (
            select(CaseRecord, CaseMonitoringProfileRecord)
            .join(CaseMonitoringProfileRecord, col(CaseMonitoringProfileRecord.case_id) == col(CaseRecord.case_id))
            .where(
                col(CaseRecord.owner_organisation_id) == organisation_id,
                col(CaseRecord.erased_at).is_(None),
                col(CaseMonitoringProfileRecord.return_quarter).is_not(None),
                col(CaseMonitoringProfileRecord.days_return_to_plan).is_not(None),
                ~excluded,
            )
        )
        if programme is not None:
            query = query.where(col(CaseRecord.programme) == programme)
        # `YYYY-Qn` labels sort as the quarters do
        if returned_from is not None:
            query = query.where(col(CaseMonitoringProfileRecord.return_quarter) >= quarter(returned_from))
        if returned_to is not None:
            query = query.where(col(CaseMonitoringProfileRecord.return_quarter) <= quarter(returned_to))
        facts = []
        for case, profile in (await self._session.execute(query)).all():
            # both are filtered on in SQL; the asserts narrow the types
            assert profile.return_quarter is not None  # noqa: S101
            assert profile.days_return_to_plan is not None  # noqa: S101
            facts.append(
                TimelineFact(
                    case_id=case.case_id,
                    programme=str(case.programme),
                    office=case.owner_office_id,
                    return_quarter=profile.return_quarter,
                    days_return_to_plan=profile.days_return_to_plan,
                    profile=_profile(profile),
                )
            )
        return facts

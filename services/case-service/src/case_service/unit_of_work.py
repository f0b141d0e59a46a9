import asyncio
from types import TracebackType
from typing import Self

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

from case_service.domain.vault import KeyEncryptionKey
from case_service.repositories import Assessments, Assistance, Beneficiaries, Cases, Closures, Notes, Plans
from case_service.repositories.access import BreakGlassGrants, ReferralLinks, Shares
from case_service.repositories.consents import ConsentRecords, ConsentWithdrawals
from case_service.repositories.documents import Documents
from case_service.repositories.follow_ups import FollowUps
from case_service.repositories.imports import Imports
from case_service.repositories.monitoring import MonitoringProfiles
from case_service.repositories.openings import CaseOpenings
from case_service.repositories.people import DuplicateCandidates, Households
from case_service.repositories.return_suspensions import ReturnSuspensions
from case_service.repositories.subject_rights import SubjectRecords
from case_service.repositories.sync import SyncJournal, journal_writes
from case_service.repositories.transfers import Transfers
from case_service.repositories.vault import Vault
from casebridge_common.audit import AuditBuffer
from casebridge_common.db import UnitOfWork
from casebridge_common.http import IdempotencyRecord
from casebridge_common.outbox import EventBuffer


class CaseUnitOfWork(UnitOfWork):
    source = "/casebridge/case-service"

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, kek: KeyEncryptionKey | None = None) -> None:
        """`kek` seals and opens the sensitive categories; without it, reading or writing one raises."""
        super().__init__(sessions)
        self._kek = kek

    def bind(self, session: AsyncSession) -> None:
        self.vault = Vault(session, self._kek)
        self.subject_records = SubjectRecords(session)
        self.beneficiaries = Beneficiaries(session)
        self.households = Households(session)
        self.duplicate_candidates = DuplicateCandidates(session)
        self.cases = Cases(session)
        self.assessments = Assessments(session, self.vault)
        self.plans = Plans(session)
        self.closures = Closures(session)
        self.assistance = Assistance(session)
        self.notes = Notes(session, self.vault)
        self.documents = Documents(session, self.vault)
        self.consents = ConsentRecords(session)
        self.shares = Shares(session)
        self.referral_links = ReferralLinks(session)
        self.break_glass = BreakGlassGrants(session)
        self.withdrawals = ConsentWithdrawals(session)
        self.transfers = Transfers(session)
        self.sync = SyncJournal(session, self.vault)
        journal_writes(session)  # every tracked write is journalled for mobile sync in its own transaction
        self.follow_ups = FollowUps(session, self.vault)
        self.imports = Imports(session)
        self.monitoring = MonitoringProfiles(session)
        self.return_suspensions = ReturnSuspensions(session)


class CaseOpeningWork:
    """The unit of work of opening a case through the API: one pooled connection and no explicit transaction,
    because :meth:`commit` is a single statement that writes everything at once (repositories/openings.py). The
    events and audit entries are buffered as in :class:`CaseUnitOfWork`; leaving without commit writes nothing."""

    source = CaseUnitOfWork.source

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._pooled: PoolProxiedConnection | None = None

    async def __aenter__(self) -> Self:
        # the pool's connection itself: an AsyncConnection around it cost twice as much to take and give back
        self._pooled = await self._engine.raw_connection()
        raw: asyncpg.Connection = self._pooled.driver_connection
        self.openings = CaseOpenings(raw)
        self.outbox = EventBuffer(source=self.source)
        self.audit = AuditBuffer()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # Back to the pool: its reset has no transaction to roll back. One that died meanwhile is marked closed by
        # asyncpg, and the pool's checkout replaces it (casebridge_common.db). It is closed instead when a statement
        # may have been cut off (cancelled, or the connection failed under it), or when it is left inside a
        # transaction, which this path never begins: the pool's reset rolls back through SQLAlchemy, which would
        # not know of one.
        pooled, self._pooled = self._pooled, None
        if pooled is not None:
            raw: asyncpg.Connection | None = pooled.driver_connection
            cut_off = isinstance(exc, asyncio.CancelledError | asyncpg.InterfaceError | OSError)
            if cut_off or (raw is not None and raw.is_in_transaction()):
                await greenlet_spawn(pooled.invalidate)
            await greenlet_spawn(pooled.close)

    async def commit(self) -> IdempotencyRecord | None:
        """Write the case with its events and audit entries (repositories/openings.py). Returns the answer
        already given to the request's Idempotency-Key instead, writing nothing; `OpeningRaced` when a request
        with the same key committed meanwhile (nothing written: open it again)."""
        answered = await self.openings.write(events=self.outbox.pending, audit=self.audit.pending)
        if answered is None:
            self.audit.committed()
        return answered

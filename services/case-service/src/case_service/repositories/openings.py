"""Opening a case in two round trips to PostgreSQL, without an explicit transaction: the hot path of
`POST /v1/cases` (bench/case_service.py). Through the ORM the same work took twelve round trips and most of the
request's time.

:meth:`CaseOpenings.read` takes what the opening decides on in one query, without a lock: the beneficiary (when
the caller's office registered it), its consent records, and the answer already given to the request's
Idempotency-Key, if any. :meth:`CaseOpenings.write` is one statement, atomic on its own: it locks the
beneficiary's row and inserts the case, its sync-journal row, its events, its audit entries, a pending
monitoring mark and the idempotency record, but only while the beneficiary's `version` and `profile_revision`
are those the read saw. Every change that re-profiles a beneficiary's cases bumps `profile_revision` under the
same row lock (`Beneficiaries.lock_for_reprofiling`), and PostgreSQL re-checks a locked row's conditions on its
newest version (READ COMMITTED). So a consent withdrawn while the case opens either committed before the write,
which then inserts nothing and the opening is read again (:class:`OpeningRaced`), or commits after it, and then
re-profiles this case too. The same holds for a concurrent duplicate Idempotency-Key: the second write inserts
nothing, and its second read finds the first one's answer.

Bulk import opens cases through the ORM instead (`service_layer/cases.open_case_within`), in the transaction that
registers the beneficiary. Both paths must write the same rows: a record the ORM journals or audits on a flush
must be added to the statement here too (tests/api/test_case_opening_api.py compares the two).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from asyncpg import Connection
from pydantic_core import to_json
from sqlalchemy import Table

from case_service.domain.consent import ConsentRecord
from case_service.domain.errors import OpeningRaced
from case_service.domain.models import Case, Sex, new_case_columns
from case_service.domain.monitoring import MonitoringProfilePending
from case_service.domain.sync import SyncChange, journal_entries
from casebridge_common.access import ConsentFacts
from casebridge_common.audit import AUDIT_TABLE
from casebridge_common.http import IdempotencyClaim, IdempotencyRecord
from casebridge_common.outbox import OUTBOX_TABLE


def _columns(table: Table, *, leaving: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The columns this module writes: all of the table's but those the database fills (identities, defaults,
    the sealer's) — the same columns the ORM path's buffers and flushes write (tests/unit/test_openings.py)."""
    return tuple(column.name for column in table.columns if column.name not in leaving)


CASE_COLUMNS = _columns(Case.__table__)  # type: ignore[attr-defined]
PENDING_COLUMNS = _columns(MonitoringProfilePending.__table__)  # type: ignore[attr-defined]
JOURNAL_COLUMNS = _columns(SyncChange.__table__, leaving=("id", "seq"))  # type: ignore[attr-defined]
OUTBOX_COLUMNS = _columns(OUTBOX_TABLE, leaving=("seq", "created_at", "published_at"))
AUDIT_COLUMNS = _columns(AUDIT_TABLE, leaving=("seq", "prev_hash", "entry_hash"))
IDEMPOTENCY_COLUMNS = _columns(IdempotencyRecord.__table__, leaving=("created_at",))  # type: ignore[attr-defined]

_READ = """
SELECT
    (SELECT to_jsonb(k) FROM idempotency_keys AS k WHERE k.principal = $3 AND k.key = $4) AS answered,
    b.id, b.sex, b.born_on, b.country_of_origin, b.country_of_return, b.country_of_resettlement,
    b.version, b.profile_revision,
    (SELECT coalesce(jsonb_agg(to_jsonb(c) ORDER BY c.recorded_at, c.id), '[]'::jsonb)
     FROM consent_records AS c WHERE c.beneficiary_id = b.id) AS consents
FROM (SELECT 1) AS one
LEFT JOIN beneficiaries AS b ON b.id = $1 AND b.registering_office_id = $2
"""


def _rows_of(table: str, columns: Sequence[str]) -> str:
    """Insert the rows of `table` staged under its name in the statement's one document ($5)."""
    names = ", ".join(columns)
    picked = ", ".join(f"r.{name}" for name in columns)
    return (  # identifiers of this module's tables only; every value is in the bound document
        f"INSERT INTO {table} ({names}) SELECT {picked}"  # noqa: S608
        f" FROM opened, jsonb_populate_recordset(NULL::{table}, $5::jsonb -> '{table}') AS r"
    )


# Built from the column lists above. Every value is bound: the guard's four, and one JSON document holding the
# rows to insert by table name (one parameter to encode instead of six).
_WRITE = f"""
WITH beneficiary AS (
    SELECT id FROM beneficiaries
    WHERE id = $1 AND registering_office_id = $2 AND version = $3 AND profile_revision = $4
    FOR UPDATE
), claimed AS (
    INSERT INTO idempotency_keys ({", ".join(IDEMPOTENCY_COLUMNS)})
    SELECT {", ".join(f"r.{name}" for name in IDEMPOTENCY_COLUMNS)}
    FROM beneficiary, jsonb_populate_recordset(NULL::idempotency_keys, $5::jsonb -> 'idempotency_keys') AS r
    ON CONFLICT DO NOTHING
    RETURNING 1
), opened AS (
    INSERT INTO cases ({", ".join(CASE_COLUMNS)})
    SELECT {", ".join(f"r.{name}" for name in CASE_COLUMNS)}
    FROM jsonb_populate_record(NULL::cases, $5::jsonb -> 'cases') AS r
    WHERE EXISTS (SELECT 1 FROM beneficiary)
      AND (jsonb_array_length($5::jsonb -> 'idempotency_keys') = 0 OR EXISTS (SELECT 1 FROM claimed))
    RETURNING id
), journal AS (
    {_rows_of("sync_changes", JOURNAL_COLUMNS)}
), pending AS (
    {_rows_of("monitoring_profile_pending", PENDING_COLUMNS)}
), events AS (
    {_rows_of("outbox_messages", OUTBOX_COLUMNS)}
), audit AS (
    {_rows_of("audit_entries", AUDIT_COLUMNS)}
)
SELECT count(*) FROM opened
"""  # noqa: S608


@dataclass(frozen=True, slots=True)
class OpeningBeneficiary:
    """The columns of the beneficiary an opening reads (`PersonFacts`), and the two it checks when it writes."""

    id: UUID
    sex: Sex
    born_on: date
    country_of_origin: str | None
    country_of_return: str | None
    country_of_resettlement: str | None
    version: int
    profile_revision: int


@dataclass(frozen=True, slots=True)
class OpeningRead:
    beneficiary: OpeningBeneficiary | None  # None: not registered by the caller's office, or no such person
    consents: tuple[ConsentFacts, ...]  # the beneficiary's consent records, oldest first
    answered: IdempotencyRecord | None  # the stored answer to the request's Idempotency-Key


class CaseOpenings:
    """The reads and the write of one case opening, on one connection of the service's pool."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._staged: tuple[Case, OpeningBeneficiary, str] | None = None
        self._pending: list[dict[str, object]] = []
        self._claim: dict[str, object] | None = None

    async def read(self, beneficiary_id: UUID, *, office_id: str, claim: IdempotencyClaim | None) -> OpeningRead:
        row = await self._connection.fetchrow(
            _READ,
            beneficiary_id,
            office_id,
            None if claim is None else claim.principal,
            None if claim is None else claim.key,
        )
        assert row is not None  # noqa: S101 - the query always returns its one row
        answered = None if row["answered"] is None else IdempotencyRecord.model_validate(row["answered"])
        if row["id"] is None:
            return OpeningRead(beneficiary=None, consents=(), answered=answered)
        beneficiary = OpeningBeneficiary(
            id=row["id"],
            sex=Sex(row["sex"]),
            born_on=row["born_on"],
            country_of_origin=row["country_of_origin"],
            country_of_return=row["country_of_return"],
            country_of_resettlement=row["country_of_resettlement"],
            version=row["version"],
            profile_revision=row["profile_revision"],
        )
        consents = tuple(ConsentRecord.model_validate(record).to_facts() for record in row["consents"])
        return OpeningRead(beneficiary=beneficiary, consents=consents, answered=answered)

    def add(self, case: Case, *, read_as: OpeningBeneficiary, office_id: str) -> None:
        """The case to insert, if the beneficiary is still as read and registered by `office_id`."""
        self._staged = (case, read_as, office_id)

    def mark_pending(self, mark: MonitoringProfilePending) -> None:
        """The case's mark for the weekly monitoring publication (no profile lock: nobody else knows the case)."""
        self._pending.append(mark.model_dump())

    def remember(self, claim: IdempotencyClaim, *, status: int, body: dict[str, Any]) -> None:
        self._claim = {
            "principal": claim.principal,
            "key": claim.key,
            "request_hash": claim.request_hash,
            "status": status,
            "body": body,
        }

    async def write(self, *, events: Sequence[dict[str, object]], audit: Sequence[dict[str, object]]) -> None:
        """Write the case and everything staged with it in one statement; :class:`OpeningRaced` if it wrote
        nothing."""
        if self._staged is None:
            raise RuntimeError("add() the case before writing it")
        case, beneficiary, office_id = self._staged
        journal = [{name: getattr(e, name) for name in JOURNAL_COLUMNS} for e in journal_entries([case], (), ())]
        columns = new_case_columns(case)
        written = await self._connection.fetchval(
            _WRITE,
            beneficiary.id,
            office_id,
            beneficiary.version,
            beneficiary.profile_revision,
            to_json(
                {
                    "idempotency_keys": [] if self._claim is None else [self._claim],
                    "cases": {name: columns[name] for name in CASE_COLUMNS},
                    "sync_changes": journal,
                    "monitoring_profile_pending": self._pending,
                    "outbox_messages": events,
                    "audit_entries": audit,
                }
            ).decode(),
        )
        if written != 1:
            raise OpeningRaced()

"""Opening a case in one round trip to PostgreSQL, without an explicit transaction: the hot path of
`POST /v1/cases` (bench/case_service.py). Through the ORM the same work took twelve round trips and most of the
request's time.

:meth:`CaseOpenings.write` is one statement, atomic on its own. It locks the beneficiary's row, when the caller's
office registered it, checks for a new return that the caller's organisation has not suspended returns to the
person's country (domain/return_suspensions), and inserts the case, its sync-journal row, its events, its audit
entry, its monitoring mark and the idempotency record; it answers whether the beneficiary was found, the
suspension that refused the opening, and the answer already given to the request's Idempotency-Key, if any
(each time inserting nothing). The opening decides on nothing else of the
beneficiary: its first monitoring profile waits for the weekly publication (service_layer/monitoring.py), and the
one fact its `case.opened` event tells of the person, whether they are a minor, is the statement's, from the row
it locks. A concurrent duplicate Idempotency-Key waits on the key's unique index and then inserts nothing; as the
statement's snapshot did not see the other key either, that is :class:`OpeningRaced`, and the next statement finds
the other request's answer.

Bulk import opens cases through the ORM instead (`service_layer/cases.open_case_within`), in the transaction that
registers the beneficiary. Both paths must write the same rows: a record the ORM journals or audits on a flush
must be added to the statement here too (tests/api/test_case_opening_api.py compares the two).
"""

from collections.abc import Sequence
from datetime import UTC

from asyncpg import Connection
from pydantic import BaseModel
from pydantic_core import to_json
from sqlalchemy import Table

from case_service.domain.errors import BeneficiaryNotFound, OpeningRaced
from case_service.domain.models import Case, new_case_columns
from case_service.domain.monitoring import MonitoringProfilePending
from case_service.domain.return_suspensions import returns_suspended
from case_service.domain.sync import SyncChange, journal_entries
from casebridge_common.audit import AUDIT_TABLE
from casebridge_common.events.contracts.case import CaseOpened
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


def _rows_of(table: str, columns: Sequence[str]) -> str:
    """Insert the rows of `table` staged under its name in the statement's one document ($6)."""
    names = ", ".join(columns)
    picked = ", ".join(f"r.{name}" for name in columns)
    return (  # identifiers of this module's tables only; every value is in the bound document
        f"INSERT INTO {table} ({names}) SELECT {picked}"  # noqa: S608
        f" FROM opened, jsonb_populate_recordset(NULL::{table}, $6::jsonb -> '{table}') AS r"
    )


# The `case.opened` event's `subject_is_minor`, from the row the statement locks: the staged document's is a
# placeholder (service_layer/cases.open_case).
_MINOR_TOLD = (
    f"CASE WHEN r.event ->> 'type' = '{CaseOpened.type}'"
    " THEN jsonb_set(r.event, '{data,subject_is_minor}', to_jsonb(beneficiary.minor)) ELSE r.event END"
)

# Whether the beneficiary is a minor on the day the case opens ($3): completed years under 18 by PostgreSQL's
# age(), which, like domain.models.is_minor, has a 29 February birthday come of age on 1 March
# (tests/integration/test_opening_statement.py).
MINOR = "extract(year FROM age($3::date, born_on)) < 18"

# Built from the column lists above. Every value is bound: the beneficiary and office ($1, $2), the day the case
# opens ($3), the Idempotency-Key's principal and key ($4, $5, null without one), one JSON document holding the
# rows to insert by table name ($6: one parameter to encode instead of six), the caller's organisation ($7) and
# whether a suspension of its returns to the person's country blocks the opening ($8; domain/return_suspensions).
_WRITE = f"""
WITH beneficiary AS (
    SELECT id, {MINOR} AS minor, coalesce(country_of_return, country_of_origin) AS returning_to FROM beneficiaries
    WHERE id = $1 AND registering_office_id = $2
    FOR UPDATE
), suspended AS (
    SELECT s.id, s.country FROM return_suspensions AS s, beneficiary AS b
    WHERE $8::boolean AND s.organisation_id = $7::text AND s.country = b.returning_to AND s.lifted_at IS NULL
), answered AS (
    SELECT to_jsonb(k) AS record FROM idempotency_keys AS k WHERE k.principal = $4::text AND k.key = $5::text
), claimed AS (
    INSERT INTO idempotency_keys ({", ".join(IDEMPOTENCY_COLUMNS)})
    SELECT {", ".join(f"r.{name}" for name in IDEMPOTENCY_COLUMNS)}
    FROM beneficiary, jsonb_populate_recordset(NULL::idempotency_keys, $6::jsonb -> 'idempotency_keys') AS r
    WHERE NOT EXISTS (SELECT 1 FROM answered) AND NOT EXISTS (SELECT 1 FROM suspended)
    ON CONFLICT DO NOTHING
    RETURNING 1
), opened AS (
    INSERT INTO cases ({", ".join(CASE_COLUMNS)})
    SELECT {", ".join(f"r.{name}" for name in CASE_COLUMNS)}
    FROM jsonb_populate_record(NULL::cases, $6::jsonb -> 'cases') AS r
    WHERE EXISTS (SELECT 1 FROM beneficiary) AND NOT EXISTS (SELECT 1 FROM answered)
      AND NOT EXISTS (SELECT 1 FROM suspended) AND ($5::text IS NULL OR EXISTS (SELECT 1 FROM claimed))
    RETURNING id
), journal AS (
    {_rows_of("sync_changes", JOURNAL_COLUMNS)}
), pending AS (
    {_rows_of("monitoring_profile_pending", PENDING_COLUMNS)}
), events AS (
    INSERT INTO outbox_messages ({", ".join(OUTBOX_COLUMNS)})
    SELECT {", ".join(_MINOR_TOLD if name == "event" else f"r.{name}" for name in OUTBOX_COLUMNS)}
    FROM opened, beneficiary, jsonb_populate_recordset(NULL::outbox_messages, $6::jsonb -> 'outbox_messages') AS r
), audit AS (
    {_rows_of("audit_entries", AUDIT_COLUMNS)}
)
SELECT EXISTS (SELECT 1 FROM beneficiary) AS found, (SELECT record FROM answered) AS answered,
       (SELECT id FROM suspended) AS suspension_id, (SELECT country FROM suspended) AS suspended_country,
       (SELECT count(*) FROM opened) AS opened
"""  # noqa: S608


class CaseOpenings:
    """The write of one case opening, on one connection of the service's pool."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._staged: tuple[Case, str, str | None, bool] | None = None
        self._pending: list[dict[str, object]] = []
        self._claimed: dict[str, object] | None = None  # the idempotency record to store

    def add(self, case: Case, *, office_id: str, organisation_id: str | None, suspendable: bool) -> None:
        """The case to insert, if its beneficiary is registered by `office_id` and, when the opening is
        `suspendable`, `organisation_id` has not suspended returns to the person's country."""
        self._staged = (case, office_id, organisation_id, suspendable)

    def mark_pending(self, mark: MonitoringProfilePending) -> None:
        """The case's mark for the weekly monitoring publication (no profile lock: nobody else knows the case)."""
        self._pending.append(mark.model_dump())

    def claim(self, claim: IdempotencyClaim, *, status: int, body: BaseModel) -> None:
        """Store `body` as the answer to the request's Idempotency-Key, unless the key already has one."""
        self._claimed = {
            "principal": claim.principal,
            "key": claim.key,
            "request_hash": claim.request_hash,
            "status": status,
            "body": body,
        }

    async def write(
        self, *, events: Sequence[dict[str, object]], audit: Sequence[dict[str, object]]
    ) -> IdempotencyRecord | None:
        """Write the case and everything staged with it in one statement. Returns the answer already given to
        the claimed key instead, writing nothing; `BeneficiaryNotFound` when the caller's office registered no
        such beneficiary, the guard's refusal when returns to the person's country are suspended (writing
        nothing), :class:`OpeningRaced` when a request with the same key committed meanwhile."""
        if self._staged is None:
            raise RuntimeError("add() the case before writing it")
        case, office_id, organisation_id, suspendable = self._staged
        journal = [{name: getattr(e, name) for name in JOURNAL_COLUMNS} for e in journal_entries([case], (), ())]
        columns = new_case_columns(case)
        claimed = self._claimed or {}
        row = await self._connection.fetchrow(
            _WRITE,
            case.beneficiary_id,
            office_id,
            case.opened_at.astimezone(UTC).date(),
            claimed.get("principal"),
            claimed.get("key"),
            to_json(
                {
                    "idempotency_keys": [claimed] if claimed else [],
                    "cases": {name: columns[name] for name in CASE_COLUMNS},
                    "sync_changes": journal,
                    "monitoring_profile_pending": self._pending,
                    "outbox_messages": events,
                    "audit_entries": audit,
                }
            ).decode(),
            organisation_id,
            suspendable,
        )
        assert row is not None  # noqa: S101 - the statement always answers one row
        if row["answered"] is not None:
            return IdempotencyRecord.model_validate(row["answered"])
        if not row["found"]:
            raise BeneficiaryNotFound(pointer="#/beneficiary_id")
        if row["suspension_id"] is not None:
            raise returns_suspended(row["suspended_country"], row["suspension_id"])
        if row["opened"] != 1:
            raise OpeningRaced()
        return None

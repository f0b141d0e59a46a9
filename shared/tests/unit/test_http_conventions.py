from datetime import UTC, date, datetime, time
from uuid import UUID

import pytest
from pydantic import TypeAdapter, ValidationError

from casebridge_common.http import (
    REQUEST_TARGET,
    Cursor,
    InvalidCursor,
    IsoDate,
    IsoDateTime,
    IsoTime,
    page_of,
    require_if_match,
    time_and_id,
)
from casebridge_common.problems import PreconditionFailed, PreconditionRequired

QUERY = {"programme": "return_reintegration", "office": "de-berlin"}


def test_cursor_round_trips_for_the_same_query() -> None:
    cursor = Cursor.encode(["2026-12-01T10:00:00+00:00", "7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11"], QUERY)
    assert Cursor.decode(cursor, dict(QUERY)) == ["2026-12-01T10:00:00+00:00", "7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11"]


@pytest.mark.parametrize("cursor", ["%%%", "bm90IGpzb24", "e30", "eyJhIjogMX0"])
def test_malformed_cursor_is_rejected(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        Cursor.decode(cursor, QUERY)


def test_cursor_replayed_on_another_query_is_rejected() -> None:
    cursor = Cursor.encode(["x"], QUERY)
    with pytest.raises(InvalidCursor):
        Cursor.decode(cursor, {**QUERY, "programme": "resettlement_integration"})


def test_cursor_of_one_list_is_rejected_by_another_with_the_same_query() -> None:
    notes = REQUEST_TARGET.set("GET /v1/cases/c1/notes")
    try:
        cursor = Cursor.encode(["x"], QUERY)
        assert Cursor.decode(cursor, QUERY) == ["x"]
    finally:
        REQUEST_TARGET.reset(notes)
    assistance = REQUEST_TARGET.set("GET /v1/cases/c1/assistance")
    try:
        with pytest.raises(InvalidCursor):
            Cursor.decode(cursor, QUERY)
    finally:
        REQUEST_TARGET.reset(assistance)


def test_page_has_a_cursor_only_when_more_rows_exist() -> None:
    assert page_of([1, 2], limit=2, sort_key=lambda i: [i], query={}).next_cursor is None
    page = page_of([1, 2, 3], limit=2, sort_key=lambda i: [i], query={})
    assert page.items == [1, 2]
    assert Cursor.decode(page.next_cursor, {}) == [2]


def test_if_match_is_required_and_must_name_the_current_version() -> None:
    with pytest.raises(PreconditionRequired):
        require_if_match(None, 3)
    with pytest.raises(PreconditionFailed) as mismatch:
        require_if_match('"2"', 3)
    assert mismatch.value.context == {"current_version": 3}
    require_if_match('"3"', 3)


def test_a_time_and_id_cursor_decodes_to_its_keyset_position() -> None:
    at, row_id = time_and_id(["2026-12-01T10:00:00+00:00", "7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11"]) or (None, None)
    assert (at, row_id) == (datetime(2026, 12, 1, 10, tzinfo=UTC), UUID("7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11"))
    assert time_and_id(None) is None
    row = "7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11"
    for bad in (
        ["yesterday", "x"],
        ["2026-12-01T10:00:00+00:00"],
        [1, 2, 3],
        ["2026-12-01T10:00:00", row],  # naive: never issued
        ["0001-01-01T00:00:00+14:00", row],  # before year 1 in UTC: no query could bind it
        ["9999-12-31T23:59:59-10:00", row],  # after year 9999 in UTC
    ):
        with pytest.raises(InvalidCursor):
            time_and_id(bad)


def test_dates_and_times_are_read_from_iso_text_only() -> None:
    dates, times = TypeAdapter(IsoDate), TypeAdapter(IsoDateTime)
    assert dates.validate_python("1994-03-17") == dates.validate_python(date(1994, 3, 17)) == date(1994, 3, 17)
    assert times.validate_python("2026-12-02T09:30:00Z") == datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
    assert dates.json_schema() == {"type": "string", "format": "date"}
    assert times.json_schema() == {"type": "string", "format": "date-time"}
    for number in (0, 86400, 1.5e9, "0", " 1994 ", "-12.5", "1e9"):
        for adapter, kind in ((dates, "date_type"), (times, "datetime_type")):
            with pytest.raises(ValidationError) as refused:
                adapter.validate_python(number)
            assert refused.value.errors()[0]["type"] == kind
    with pytest.raises(ValidationError):
        dates.validate_python(True)
    times_of_day = TypeAdapter(IsoTime)
    assert times_of_day.validate_python("22:00") == time(22, 0)
    with pytest.raises(ValidationError) as refused:
        times_of_day.validate_python(3600)
    assert refused.value.errors()[0]["type"] == "time_type"

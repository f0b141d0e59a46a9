"""The import's column mapping and row rules, without I/O."""

import io
from datetime import date

import pytest
from openpyxl import Workbook

from case_service.domain.errors import ImportFileUnreadable
from case_service.domain.imports import (
    REQUIRED_COLUMNS,
    RowProblem,
    content_hash,
    map_columns,
    parse_date,
    parse_flag,
    row_cells,
    stage_at_import,
)
from case_service.domain.stages import Stage
from case_service.service_layer.imports import read_table, validate_row
from casebridge_common.events.contracts.case import ModeOfReturn, Programme

GOOD = {
    "given_name": "Awa",
    "family_name": "Ndiaye",
    "sex": "F",
    "born_on": "1994-03-17",
    "nationality": "sn",
    "programme": "return_reintegration",
}
TODAY = date(2026, 12, 2)


def test_headers_map_case_insensitively_with_aliases_and_report_the_rest() -> None:
    mapping = map_columns(["Legacy ID", "First Name", "SURNAME", "Sex", "Date-of-Birth", "Remarks", "sex"])
    assert mapping.positions == {"external_id": 0, "given_name": 1, "family_name": 2, "sex": 3, "born_on": 4}
    assert mapping.ignored == ["Remarks", "sex"]
    assert mapping.missing == ["nationality", "programme"]


def test_a_full_header_misses_nothing() -> None:
    assert map_columns(sorted(REQUIRED_COLUMNS)).missing == []


def test_row_cells_strip_values_and_leave_out_empty_and_short_rows() -> None:
    mapping = map_columns(["given_name", "family_name", "stage"])
    assert row_cells(
        mapping,
        [
            "  Awa ",
            "",
        ],
    ) == {"given_name": "Awa"}


@pytest.mark.parametrize(
    ("value", "expected"), [(None, False), ("Yes", True), ("0", False), ("true", True), ("maybe", None)]
)
def test_flags(value: str | None, expected: bool | None) -> None:
    assert parse_flag(value) is expected


def test_a_spreadsheet_datetime_reads_as_its_date_and_anything_else_is_left_for_validation() -> None:
    assert parse_date("1994-03-17 00:00:00") == "1994-03-17"
    assert parse_date("1994-03-17 10:30:00") == "1994-03-17 10:30:00"
    assert parse_date("17/03/1994") == "17/03/1994"


def test_the_stage_at_import_defaults_to_the_first_and_must_be_an_active_stage_of_the_programme() -> None:
    assert stage_at_import(Programme.RETURN_REINTEGRATION, None) is Stage.PRE_DEPARTURE_COUNSELLING
    assert stage_at_import(Programme.RETURN_REINTEGRATION, " Monitoring ") is Stage.MONITORING
    assert stage_at_import(Programme.RESETTLEMENT_INTEGRATION, "reception") is Stage.RECEPTION
    for programme, stage, code in [
        (Programme.RETURN_REINTEGRATION, "somewhere", "unknown-stage"),
        (Programme.RETURN_REINTEGRATION, "reception", "stage-not-in-programme"),
        (Programme.RETURN_REINTEGRATION, "closed", "stage-not-importable"),
        (Programme.RESETTLEMENT_INTEGRATION, "on_hold", "stage-not-importable"),
    ]:
        problem = stage_at_import(programme, stage)
        assert isinstance(problem, RowProblem)
        assert (problem.column, problem.code) == ("stage", code)


def test_a_forced_or_spontaneous_return_is_imported_from_arrival_on() -> None:
    for mode in (ModeOfReturn.FORCED_DEPORTED, ModeOfReturn.SPONTANEOUS):
        assert stage_at_import(Programme.RETURN_REINTEGRATION, None, mode_of_return=mode) is Stage.ARRIVED
        assert stage_at_import(Programme.RETURN_REINTEGRATION, "monitoring", mode_of_return=mode) is Stage.MONITORING
        problem = stage_at_import(Programme.RETURN_REINTEGRATION, "pre_departure_counselling", mode_of_return=mode)
        assert isinstance(problem, RowProblem)
        assert (problem.column, problem.code) == ("stage", "stage-before-arrival")
    voluntary = ModeOfReturn.AVRR_VOLUNTARY
    assert stage_at_import(Programme.RETURN_REINTEGRATION, None, mode_of_return=voluntary) is (
        Stage.PRE_DEPARTURE_COUNSELLING
    )


def test_the_content_hash_ignores_case_and_spacing_but_not_the_programme() -> None:
    one = content_hash(
        given_name="Awa",
        family_name="Ndiaye",
        sex="female",
        born_on=date(1994, 3, 17),
        nationality="SN",
        programme=Programme.RETURN_REINTEGRATION,
    )
    same = content_hash(
        given_name=" AWA ",
        family_name="ndiaye",
        sex="female",
        born_on=date(1994, 3, 17),
        nationality="sn",
        programme=Programme.RETURN_REINTEGRATION,
    )
    other = content_hash(
        given_name="Awa",
        family_name="Ndiaye",
        sex="female",
        born_on=date(1994, 3, 17),
        nationality="SN",
        programme=Programme.RESETTLEMENT_INTEGRATION,
    )
    assert one == same != other


def test_a_good_row_becomes_the_two_commands_of_the_single_endpoints() -> None:
    valid = validate_row({**GOOD, "stage": "assessment", "assigned_worker": "anna.schmidt"}, today=TODAY)
    assert not isinstance(valid, list)
    assert (valid.beneficiary.sex, valid.beneficiary.nationality, valid.beneficiary.born_on) == (
        "female",
        "SN",
        date(1994, 3, 17),
    )
    assert (valid.case.programme, valid.case.assigned_worker, valid.stage) == (
        Programme.RETURN_REINTEGRATION,
        "anna.schmidt",
        Stage.ASSESSMENT,
    )


def test_a_bad_row_reports_every_problem_by_column() -> None:
    problems = validate_row(
        {
            "family_name": "Ndiaye",
            "sex": "x",
            "born_on": "17/03/1994",
            "nationality": "Senegal",
            "programme": "asylum",
            "born_on_is_estimated": "maybe",
        },
        today=TODAY,
    )
    assert isinstance(problems, list)
    assert sorted((p.column, p.code) for p in problems) == [
        ("born_on", "invalid-date-from-datetime-parsing"),
        ("born_on_is_estimated", "invalid-bool-parsing"),
        ("given_name", "invalid-missing"),
        ("nationality", "invalid-string-pattern-mismatch"),
        ("programme", "invalid-enum"),
        ("sex", "invalid-enum"),
    ]


def test_a_row_carries_the_cases_return_profile_checked_as_the_api_checks_it() -> None:
    profile = {
        "mode_of_return": "AVRR_voluntary",
        "avrr_category": "stranded_migrant",
        "return_intended_duration": "permanent",
        "host_country": "de",
        "length_of_absence_years": "4.5",
        "returned_on": "2026-11-20 00:00:00",
    }
    valid = validate_row({**GOOD, **profile}, today=TODAY)
    assert not isinstance(valid, list)
    assert valid.case.model_dump(include={"mode_of_return", "host_country", "returned_on"}) == {
        "mode_of_return": "avrr_voluntary",
        "host_country": "DE",
        "returned_on": date(2026, 11, 20),
    }
    assert str(valid.case.length_of_absence_years) == "4.5"

    resettled = {**GOOD, "programme": "resettlement_integration"}
    arrival = validate_row({**resettled, "returned_on": "2026-11-20"}, today=TODAY)
    assert not isinstance(arrival, list)  # a resettlement's date of arrival
    refused = validate_row({**resettled, "host_country": "DE"}, today=TODAY)
    assert refused == [
        RowProblem(
            "host_country", "return-profile-not-applicable", "Only a return & reintegration case has a return profile"
        )
    ]
    both = validate_row({**resettled, "host_country": "DE", "stage": "bogus"}, today=TODAY)
    assert isinstance(both, list)
    assert [(p.column, p.code) for p in both] == [
        ("host_country", "return-profile-not-applicable"),
        ("stage", "unknown-stage"),
    ]
    future = validate_row({**GOOD, "returned_on": "2027-01-01"}, today=TODAY)
    assert isinstance(future, list)
    assert [(p.column, p.code) for p in future] == [("returned_on", "return-date-in-future")]
    bad = validate_row({**GOOD, "mode_of_return": "by boat", "length_of_absence_years": "-1"}, today=TODAY)
    assert isinstance(bad, list)
    assert sorted((p.column, p.code) for p in bad) == [
        ("length_of_absence_years", "invalid-greater-than-equal"),
        ("mode_of_return", "invalid-enum"),
    ]


def test_csv_with_a_bom_and_semicolons_and_xlsx_read_as_the_same_table() -> None:
    fmt, rows = read_table("\ufeffgiven_name;born_on\nAwa;1994-03-17\n".encode(), "a.csv")
    assert (fmt, rows) == ("csv", [["given_name", "born_on"], ["Awa", "1994-03-17"]])
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["given_name", "born_on"])
    sheet.append(["Awa", date(1994, 3, 17)])
    out = io.BytesIO()
    book.save(out)
    fmt, rows = read_table(out.getvalue(), "a.xlsx")
    assert fmt == "xlsx"
    assert [rows[0], [rows[1][0], parse_date(rows[1][1])]] == [["given_name", "born_on"], ["Awa", "1994-03-17"]]


def test_binary_that_is_neither_is_unreadable() -> None:
    with pytest.raises(ImportFileUnreadable):
        read_table(b"\xff\xfe\x00garbage", "a.bin")
    with pytest.raises(ImportFileUnreadable):
        read_table(b"PK\x03\x04 not really a zip", "a.xlsx")


def test_choice_cells_are_read_as_headers_are() -> None:
    valid = validate_row(
        {
            **GOOD,
            "programme": "Return Reintegration",
            "stage": "Pre-departure counselling",
            "mode_of_return": "AVRR voluntary",
            "avrr_category": "Stranded-Migrant",
            "return_intended_duration": " PERMANENT ",
        },
        today=TODAY,
    )
    assert not isinstance(valid, list), valid
    assert (valid.case.programme, valid.stage) == (Programme.RETURN_REINTEGRATION, Stage.PRE_DEPARTURE_COUNSELLING)
    assert valid.case.model_dump(include={"mode_of_return", "avrr_category", "return_intended_duration"}) == {
        "mode_of_return": "avrr_voluntary",
        "avrr_category": "stranded_migrant",
        "return_intended_duration": "permanent",
    }


@pytest.mark.parametrize("number", ["0", "34410", "1994", "86400", "34410.0", "-86400", "+86400", "1e9"])
def test_a_number_in_a_date_column_is_refused_not_read_as_seconds_since_1970(number: str) -> None:
    assert parse_date(number) is None
    problems = validate_row({**GOOD, "born_on": number, "returned_on": number}, today=TODAY)
    assert isinstance(problems, list)
    assert [(p.column, p.code) for p in problems] == [
        ("born_on", "date-is-a-number"),
        ("returned_on", "date-is-a-number"),
    ]

"""The HSDS CSV archive: written and read back without I/O, and rows that do not join up are named."""

import io
import zipfile
from datetime import UTC, datetime

from casebridge_common.events.contracts.referral import ServiceCategory
from referral_service.domain.hsds_tabular import COLUMNS, assemble, export_tables, read_zip, write_zip
from referral_service.domain.models import Location, Organisation, OrganisationKind, Service
from referral_service.schemas import HsdsService

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ORGANISATION = Organisation(id="cfp-dakar", name="CFP Dakar", kind=OrganisationKind.SERVICE_PROVIDER, country="SN")
LOCATION = Location(
    id="cfp-dakar-main", organisation_id="cfp-dakar", name="Main campus", country="SN", city="Dakar", latitude=14.7
)
SERVICE = Service(
    id="cfp-dakar-tvet",
    organisation_id="cfp-dakar",
    name="Tailoring",
    category=ServiceCategory.TVET,
    languages=["fr", "wo"],
    target_groups=["returnees"],
    service_area_country="SN",
    service_area_admin_areas=["Dakar"],
    available_places=3,
    minimum_age=16,
    updated_at=NOW,
    capacity_updated_at=NOW,
)


def _tables() -> dict[str, list[dict[str, str]]]:
    tables, problems = read_zip(write_zip(export_tables([ORGANISATION], [SERVICE], {SERVICE.id: [LOCATION]})))
    assert problems == []
    return tables


def test_a_written_archive_reads_back_as_the_services_hsds_json_shape() -> None:
    package = assemble(_tables())
    assert package.rejections == []
    assert [o.values for o in package.organizations] == [
        {"id": "cfp-dakar", "name": "CFP Dakar", "kind": "service_provider", "country": "SN"}
    ]
    assert package.locations[0].values == {
        "id": "cfp-dakar-main",
        "organisation_id": "cfp-dakar",
        "name": "Main campus",
        "location_type": "physical",
        "city": "Dakar",
        "country": "SN",
        "latitude": "14.7",
    }
    rebuilt = HsdsService.model_validate(package.services[0].values)
    assert rebuilt.to_import() == HsdsService.of(SERVICE, [LOCATION.id]).to_import()  # what would be stored


def test_rows_that_do_not_join_up_are_named_by_file_row_and_column() -> None:
    tables = _tables()
    tables["language.csv"].append({"id": "x", "service_id": "nowhere", "name": "", "code": "fr"})
    tables["service_capacity.csv"][0]["unit_id"] = "beds"
    tables["service.csv"].append(dict(tables["service.csv"][0]))
    problems = {(p["file"], p["row"], p["column"]) for p in assemble(tables).rejections}
    assert problems == {
        ("language.csv", 4, "service_id"),
        ("service_capacity.csv", 2, "unit_id"),
        ("service.csv", 3, "id"),
    }


def test_an_archive_missing_a_column_is_rejected_per_file() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, columns in COLUMNS.items():
            kept = [c for c in columns if not (name == "service.csv" and c == "cb_country")]
            archive.writestr(name, ",".join(kept) + "\r\n")
    _, problems = read_zip(buffer.getvalue())
    assert problems == [
        {"file": "service.csv", "row": None, "id": None, "column": None, "detail": "missing columns: cb_country"}
    ]

"""The tabular form of Open Referral HSDS 3.x: a zip of CSV files, one per HSDS object, joined by `*_id`
columns (referrals.md §2.1). Pure: bytes in, bytes out, no I/O beyond the in-memory archive.

Files: organization, location, address, accessibility, service, service_at_location, language, service_area,
service_capacity, unit, attribute and taxonomy_term. CaseBridge's own fields are `cb_` columns; a list in a
`cb_` cell is `;`-separated; an empty cell is no value. Rows are numbered as a spreadsheet shows them (the
header is row 1), so a rejection names the file, the row and the column to fix.
"""

import csv
import io
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from referral_service.domain.models import Location, Organisation, Service

TAXONOMY = "casebridge-service-types"
PLACES_UNIT = "places"
LIST_SEPARATOR = ";"
MAX_UNCOMPRESSED_BYTES = 64 * 1024 * 1024

COLUMNS: dict[str, tuple[str, ...]] = {
    "organization.csv": ("id", "name", "description", "website", "cb_kind", "cb_country"),
    "location.csv": (
        "id",
        "location_type",
        "organization_id",
        "name",
        "latitude",
        "longitude",
        "cb_office_id",
    ),
    "address.csv": ("id", "location_id", "address_1", "city", "state_province", "country", "address_type"),
    "accessibility.csv": ("id", "location_id", "description"),
    "service.csv": (
        "id",
        "organization_id",
        "name",
        "description",
        "url",
        "email",
        "status",
        "interpretation_services",
        "application_process",
        "fees_description",
        "eligibility_description",
        "minimum_age",
        "maximum_age",
        "cb_country",
        "cb_target_groups",
        "cb_eligible_sexes",
        "cb_open_for_referrals",
        "cb_waiting_time_days",
        "cb_capacity_source",
    ),
    "service_at_location.csv": ("id", "service_id", "location_id"),
    "language.csv": ("id", "service_id", "name", "code"),
    "service_area.csv": ("id", "service_id", "name", "extent_type"),
    "service_capacity.csv": ("id", "service_id", "unit_id", "available", "maximum", "updated"),
    "unit.csv": ("id", "name", "scheme"),
    "attribute.csv": ("id", "link_id", "link_type", "link_entity", "taxonomy_term_id"),
    "taxonomy_term.csv": ("id", "code", "name", "taxonomy"),
}
REQUIRED_FILES = ("organization.csv", "location.csv", "service.csv", "service_at_location.csv")
# nested list in the HSDS JSON service ← the file its items come from
CHILDREN = {
    "languages": "language.csv",
    "service_areas": "service_area.csv",
    "capacities": "service_capacity.csv",
    "service_at_locations": "service_at_location.csv",
    "attributes": "attribute.csv",
}

Row = dict[str, str]
Tables = dict[str, list[Row]]


@dataclass(frozen=True, slots=True)
class Source:
    file: str
    row: int  # as a spreadsheet numbers it: the header is row 1
    id: str | None


@dataclass(slots=True)
class SourcedRecord:
    """A record rebuilt from the tables, in the HSDS JSON shape, with where each part came from."""

    values: dict[str, object]
    source: Source
    children: dict[str, list[Source]] = field(default_factory=dict)


@dataclass(slots=True)
class Package:
    organizations: list[SourcedRecord]
    locations: list[SourcedRecord]
    services: list[SourcedRecord]
    rejections: list[dict[str, object]]


def rejection(source: Source, column: str | None, detail: str) -> dict[str, object]:
    return {"file": source.file, "row": source.row, "id": source.id, "column": column, "detail": detail}


def _file_rejection(file: str, detail: str) -> dict[str, object]:
    return {"file": file, "row": None, "id": None, "column": None, "detail": detail}


# --- export -----------------------------------------------------------------------------------------------------


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return LIST_SEPARATOR.join(str(v) for v in value)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def export_tables(
    organisations: Iterable[Organisation],
    services: Iterable[Service],
    locations_of: Mapping[str, list[Location]],
) -> Tables:
    """The tables of these services, their organisations and their locations, every file sorted by id."""
    tables: Tables = {name: [] for name in COLUMNS}
    tables["unit.csv"].append({"id": PLACES_UNIT, "name": PLACES_UNIT, "scheme": "casebridge"})
    terms: set[str] = set()
    locations: dict[str, Location] = {}
    for organisation in organisations:
        tables["organization.csv"].append(
            {
                "id": organisation.id,
                "name": organisation.name,
                "description": "",
                "website": _cell(organisation.website),
                "cb_kind": str(organisation.kind),
                "cb_country": organisation.country,
            }
        )
    for s in services:
        tables["service.csv"].append(
            {
                "id": s.id,
                "organization_id": s.organisation_id,
                "name": s.name,
                "description": s.description,
                "url": _cell(s.url),
                "email": _cell(s.email),
                "status": str(s.status),
                "interpretation_services": _cell(s.interpretation_services),
                "application_process": _cell(s.application_process),
                "fees_description": _cell(s.fees_description),
                "eligibility_description": _cell(s.eligibility_description),
                "minimum_age": _cell(s.minimum_age),
                "maximum_age": _cell(s.maximum_age),
                "cb_country": s.service_area_country,
                "cb_target_groups": _cell(s.target_groups),
                "cb_eligible_sexes": _cell(s.eligible_sexes),
                "cb_open_for_referrals": _cell(s.open_for_referrals),
                "cb_waiting_time_days": _cell(s.waiting_time_days),
                "cb_capacity_source": str(s.capacity_source),
            }
        )
        for code in s.languages:
            tables["language.csv"].append({"id": f"{s.id}:{code}", "service_id": s.id, "name": "", "code": code})
        for area in s.service_area_admin_areas:
            tables["service_area.csv"].append(
                {"id": f"{s.id}:{area}", "service_id": s.id, "name": area, "extent_type": "admin_area"}
            )
        tables["service_capacity.csv"].append(
            {
                "id": f"{s.id}:{PLACES_UNIT}",
                "service_id": s.id,
                "unit_id": PLACES_UNIT,
                "available": _cell(s.available_places),
                "maximum": _cell(s.maximum_places),
                "updated": _cell(s.capacity_updated_at),
            }
        )
        term_id = f"{TAXONOMY}:{s.category}"
        terms.add(str(s.category))
        tables["attribute.csv"].append(
            {
                "id": f"{s.id}:{TAXONOMY}",
                "link_id": s.id,
                "link_type": "service_type",
                "link_entity": "service",
                "taxonomy_term_id": term_id,
            }
        )
        for location in locations_of.get(s.id, []):
            locations[location.id] = location
            tables["service_at_location.csv"].append(
                {"id": f"{s.id}@{location.id}", "service_id": s.id, "location_id": location.id}
            )
    for code in sorted(terms):
        tables["taxonomy_term.csv"].append(
            {"id": f"{TAXONOMY}:{code}", "code": code, "name": code, "taxonomy": TAXONOMY}
        )
    for location in locations.values():
        tables["location.csv"].append(
            {
                "id": location.id,
                "location_type": str(location.location_type),
                "organization_id": location.organisation_id,
                "name": location.name,
                "latitude": _cell(location.latitude),
                "longitude": _cell(location.longitude),
                "cb_office_id": _cell(location.office_id),
            }
        )
        tables["address.csv"].append(
            {
                "id": f"{location.id}:address",
                "location_id": location.id,
                "address_1": _cell(location.address),
                "city": _cell(location.city),
                "state_province": _cell(location.admin_area),
                "country": location.country,
                "address_type": "physical",
            }
        )
        if location.accessibility is not None:
            tables["accessibility.csv"].append(
                {
                    "id": f"{location.id}:accessibility",
                    "location_id": location.id,
                    "description": location.accessibility,
                }
            )
    return {name: sorted(rows, key=lambda r: r["id"]) for name, rows in tables.items()}


def write_zip(tables: Tables) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, columns in COLUMNS.items():
            text = io.StringIO()
            writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\r\n")
            writer.writeheader()
            writer.writerows(tables.get(name, []))
            archive.writestr(name, text.getvalue())
    return buffer.getvalue()


# --- import -----------------------------------------------------------------------------------------------------


def read_zip(data: bytes) -> tuple[Tables, list[dict[str, object]]]:
    """The CSV tables of an archive, or file-level rejections (not a zip, too large, a file or column missing,
    not UTF-8). Unknown files and columns are ignored, so a whole HSDS export loads."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return {}, [_file_rejection("", "not a zip archive")]
    with archive:
        members = {info.filename.rsplit("/", 1)[-1]: info for info in archive.infolist() if not info.is_dir()}
        if sum(info.file_size for info in members.values()) > MAX_UNCOMPRESSED_BYTES:
            return {}, [_file_rejection("", f"more than {MAX_UNCOMPRESSED_BYTES} bytes uncompressed")]
        tables: Tables = {}
        problems = [_file_rejection(name, "missing from the archive") for name in REQUIRED_FILES if name not in members]
        for name, columns in COLUMNS.items():
            if name not in members:
                tables[name] = []
                continue
            try:
                text = archive.read(members[name]).decode("utf-8-sig")
            except UnicodeDecodeError:
                problems.append(_file_rejection(name, "not UTF-8 text"))
                continue
            reader = csv.DictReader(io.StringIO(text))
            header = reader.fieldnames or []
            missing = [c for c in ("id", *columns) if c not in header]
            if missing:
                problems.append(_file_rejection(name, f"missing columns: {', '.join(dict.fromkeys(missing))}"))
                continue
            tables[name] = [{c: (row.get(c) or "").strip() for c in columns} for row in reader]
    return tables, problems


def _value(cell: str) -> str | None:
    return cell if cell != "" else None


def _list(cell: str) -> list[str]:
    return [v.strip() for v in cell.split(LIST_SEPARATOR) if v.strip()]


def _present(values: Mapping[str, object | None]) -> dict[str, object]:
    return {k: v for k, v in values.items() if v is not None}


def _index(tables: Tables, name: str) -> dict[str, tuple[int, Row]]:
    return {row["id"]: (number, row) for number, row in enumerate(tables[name], start=2) if row["id"]}


def assemble(tables: Tables) -> Package:
    """The organizations, locations and services of the tables in the HSDS JSON shape, and the rows that do not
    join up (a duplicate or empty id, a child row naming an unknown service, location, unit or term)."""
    problems: list[dict[str, object]] = []
    for name in COLUMNS:
        seen: set[str] = set()
        for number, row in enumerate(tables[name], start=2):
            source = Source(name, number, row["id"] or None)
            if not row["id"]:
                problems.append(rejection(source, "id", "every row needs an id"))
            elif row["id"] in seen:
                problems.append(rejection(source, "id", "duplicate id"))
            seen.add(row["id"])

    organizations = [
        SourcedRecord(
            _present(
                {
                    "id": row["id"],
                    "name": row["name"],
                    "kind": _value(row["cb_kind"]),
                    "country": _value(row["cb_country"]),
                    "website": _value(row["website"]),
                }
            ),
            Source("organization.csv", number, row["id"]),
        )
        for number, row in enumerate(tables["organization.csv"], start=2)
    ]

    addresses: dict[str, Row] = {}
    accessibility: dict[str, Row] = {}
    location_ids = {row["id"] for row in tables["location.csv"]}
    for file, target in (("address.csv", addresses), ("accessibility.csv", accessibility)):
        for number, row in enumerate(tables[file], start=2):
            source = Source(file, number, row["id"] or None)
            if row["location_id"] not in location_ids:
                problems.append(rejection(source, "location_id", "no such location in location.csv"))
            elif row["location_id"] in target:
                problems.append(rejection(source, "location_id", f"a second {file[:-4]} for this location"))
            else:
                target[row["location_id"]] = row
    locations = []
    for number, row in enumerate(tables["location.csv"], start=2):
        address = addresses.get(row["id"], {})
        locations.append(
            SourcedRecord(
                _present(
                    {
                        "id": row["id"],
                        "organisation_id": row["organization_id"],
                        "office_id": _value(row["cb_office_id"]),
                        "name": row["name"],
                        "location_type": _value(row["location_type"]),
                        "address": _value(address.get("address_1", "")),
                        "city": _value(address.get("city", "")),
                        "admin_area": _value(address.get("state_province", "")),
                        "country": _value(address.get("country", "")),
                        "latitude": _value(row["latitude"]),
                        "longitude": _value(row["longitude"]),
                        "accessibility": _value(accessibility.get(row["id"], {}).get("description", "")),
                    }
                ),
                Source("location.csv", number, row["id"]),
            )
        )

    services: dict[str, SourcedRecord] = {}
    for number, row in enumerate(tables["service.csv"], start=2):
        values = _present({k: _value(v) for k, v in row.items() if not k.startswith("cb_")}) | _present(
            {
                "cb_country": _value(row["cb_country"]),
                "cb_target_groups": _list(row["cb_target_groups"]),
                "cb_eligible_sexes": _list(row["cb_eligible_sexes"]),
                "cb_open_for_referrals": _value(row["cb_open_for_referrals"]),
                "cb_waiting_time_days": _value(row["cb_waiting_time_days"]),
                "cb_capacity_source": _value(row["cb_capacity_source"]),
            }
        )
        for key in CHILDREN:
            values[key] = []
        services.setdefault(row["id"], SourcedRecord(values, Source("service.csv", number, row["id"] or None)))

    units = _index(tables, "unit.csv")
    terms = _index(tables, "taxonomy_term.csv")

    def child(file: str, key: str, number: int, row: Row, item: dict[str, object]) -> None:
        source = Source(file, number, row["id"] or None)
        owner = services.get(row["service_id"] if "service_id" in row else row["link_id"])
        if owner is None:
            column = "service_id" if "service_id" in row else "link_id"
            problems.append(rejection(source, column, "no such service in service.csv"))
            return
        items = owner.values[key]
        assert isinstance(items, list)  # noqa: S101 - set above
        items.append(item)
        owner.children.setdefault(key, []).append(source)

    for number, row in enumerate(tables["language.csv"], start=2):
        child("language.csv", "languages", number, row, _present({"code": row["code"], "name": _value(row["name"])}))
    for number, row in enumerate(tables["service_area.csv"], start=2):
        child(
            "service_area.csv",
            "service_areas",
            number,
            row,
            _present({"name": row["name"], "extent_type": _value(row["extent_type"])}),
        )
    for number, row in enumerate(tables["service_at_location.csv"], start=2):
        child("service_at_location.csv", "service_at_locations", number, row, {"location_id": row["location_id"]})
    for number, row in enumerate(tables["service_capacity.csv"], start=2):
        unit = units.get(row["unit_id"])
        if unit is None:
            problems.append(
                rejection(
                    Source("service_capacity.csv", number, row["id"] or None), "unit_id", "no such unit in unit.csv"
                )
            )
            continue
        capacity = _present(
            {
                "available": _value(row["available"]),
                "maximum": _value(row["maximum"]),
                "updated": _value(row["updated"]),
            }
        )
        child("service_capacity.csv", "capacities", number, row, capacity | {"unit": {"name": unit[1]["name"]}})
    for number, row in enumerate(tables["attribute.csv"], start=2):
        if row["link_entity"] not in ("", "service"):
            continue  # attributes of other objects carry nothing CaseBridge models
        term = terms.get(row["taxonomy_term_id"])
        if term is None:
            problems.append(
                rejection(
                    Source("attribute.csv", number, row["id"] or None),
                    "taxonomy_term_id",
                    "no such term in taxonomy_term.csv",
                )
            )
            continue
        taxonomy_term = {"code": term[1]["code"], "taxonomy": term[1]["taxonomy"] or TAXONOMY}
        child("attribute.csv", "attributes", number, row, {"taxonomy_term": taxonomy_term})
    return Package(organizations, locations, list(services.values()), problems)


def locate(record: SourcedRecord, loc: tuple[int | str, ...]) -> tuple[Source, str | None]:
    """The file, row and column a validation error of a rebuilt service points at."""
    if len(loc) >= 2 and isinstance(loc[0], str) and loc[0] in CHILDREN and isinstance(loc[1], int):
        sources = record.children.get(loc[0], [])
        if loc[1] < len(sources):
            column = loc[2] if len(loc) > 2 else None
            return sources[loc[1]], str(column) if column is not None else None
    return record.source, str(loc[0]) if loc else None

"""Test data several case-service test modules share: a returnee, an M&E consent for her, and the Berlin office's
system client as a principal (for tests that call the service layer or repositories without HTTP)."""

from casebridge_common.auth import Principal

PERSON = {
    "given_name": "Awa",
    "family_name": "Ndiaye",
    "sex": "female",
    "born_on": "1994-03-17",
    "nationality": "SN",
    "country_of_origin": "SN",
    "country_of_return": "SN",
    "confirm_not_duplicate": True,
}
M_AND_E = {
    "given_by": "self",
    "method": "written",
    "notice_version": "notice-2026-01-fr",
    "scopes": [
        {
            "data_categories": ["identity_biodata", "migration_history"],
            "purposes": ["m_and_e"],
            "organisations": ["iom-germany"],
        }
    ],
}
BERLIN_SYSTEM = Principal(
    subject="de-berlin-system",
    client_id="de-berlin-system",
    organisation_id="iom-germany",
    office_id="de-berlin",
    country="DE",
    scopes=frozenset({"cases:read", "cases:write", "consents:write"}),
    roles=frozenset(),
)

"""The category table of the case file: what a reader sees of each record, and what the preview lists."""

import pytest

from case_service.domain.assessments import AssessmentKind
from case_service.domain.disclosure import (
    ASSESSMENT_SECTION,
    ASSESSMENT_WRITE_CATEGORY,
    SECTIONS,
    Section,
    categories_of,
    fields_by_category,
    redact,
)
from case_service.schemas import (
    AssistanceRead,
    BeneficiaryRead,
    BestInterestsDetermination,
    CaseRead,
    ClosureRead,
    HealthSummary,
    NeedsAssessment,
    NoteRead,
    PlanRead,
    RiskAssessment,
    SkillsAssessment,
    VulnerabilityScreening,
)
from case_service.schemas.people import HouseholdRead
from casebridge_common.access import DataCategory as C

NEEDS = {"economic": "No income", "social": "Isolated", "legal": None, "immediate_needs": "Food"}


def test_needs_fields_follow_their_own_categories() -> None:
    view = redact(Section.NEEDS, NEEDS, {C.ECONOMIC_SITUATION})
    assert view.data == {"economic": "No income", "immediate_needs": "Food"}
    assert view.returned == {C.ECONOMIC_SITUATION}
    assert view.withheld == {C.PSYCHOSOCIAL_NOTES, C.LEGAL_CRIMINAL}


def test_structure_is_shown_with_any_category_and_content_only_when_allowed() -> None:
    note = {"id": "n1", "author": "anna", "body": "Disclosed abuse", "is_confidential": True}
    hidden = redact(Section.NOTE, note, set(), confidential=True)
    assert hidden.data == {"id": "n1", "author": "anna", "is_confidential": True}
    assert hidden.returned == frozenset()
    assert hidden.dropped_everything
    assert hidden.withheld == {C.CASE_NOTES, C.PSYCHOSOCIAL_NOTES}
    not_enough = redact(Section.NOTE, note, {C.CASE_NOTES}, confidential=True)
    assert "body" not in not_enough.data
    assert not_enough.withheld == {C.PSYCHOSOCIAL_NOTES}
    shown = redact(Section.NOTE, note, {C.CASE_NOTES, C.PSYCHOSOCIAL_NOTES}, confidential=True)
    assert shown.data["body"] == "Disclosed abuse"
    assert shown.withheld == frozenset()


@pytest.mark.parametrize(
    ("codes", "extra"),
    [
        (["health_needs"], set()),
        (["victim_of_trafficking"], {C.TRAFFICKING_HISTORY}),
        (["uasc", "lgbti"], {C.CHILD_PROTECTION, C.GBV_SOGIESC}),
        (["mental_health_condition"], {C.HEALTH_CLINICAL}),
    ],
)
def test_vulnerability_codes_need_the_categories_they_reveal(codes: list[str], extra: set[C]) -> None:
    for section, name in ((Section.VULNERABILITY_SCREENING, "categories"), (Section.CASE, "vulnerability_categories")):
        assert categories_of(section, name, codes) == {C.VULNERABILITY_RESULTS} | extra
        only_results = redact(section, {name: codes}, {C.VULNERABILITY_RESULTS})
        assert (name in only_results.data) is (not extra)
        assert name in redact(section, {name: codes}, {C.VULNERABILITY_RESULTS} | extra).data


def test_a_trafficking_code_is_withheld_from_a_reader_allowed_only_vulnerability_results() -> None:
    view = redact(
        Section.CASE, {"id": "c", "vulnerability_categories": ["victim_of_trafficking"]}, {C.VULNERABILITY_RESULTS}
    )
    assert view.data == {"id": "c"}
    assert view.withheld == {C.TRAFFICKING_HISTORY}


def test_an_unclassified_field_is_withheld_as_its_sections_default() -> None:
    view = redact(Section.CASE, {"id": "c", "a_new_field": "x"}, {C.IDENTITY_BIODATA})
    assert view.data == {"id": "c"}
    assert view.withheld == {C.CASE_NOTES}


def test_health_separates_clinical_findings_from_fitness_to_travel() -> None:
    health = {"summary": "Type 2 diabetes", "return_decision": "fit_to_return", "needs_continuity_of_care": True}
    view = redact(Section.HEALTH, health, {C.HEALTH_FITNESS_TRAVEL})
    assert view.data == {"return_decision": "fit_to_return", "needs_continuity_of_care": True}
    assert view.withheld == {C.HEALTH_CLINICAL}


@pytest.mark.parametrize(
    ("schema", "section", "structural"),
    [
        (BeneficiaryRead, Section.BENEFICIARY, set()),
        (CaseRead, Section.CASE, set()),
        (PlanRead, Section.PLAN, set()),
        (AssistanceRead, Section.ASSISTANCE, set()),
        (NoteRead, Section.NOTE, set()),
        (ClosureRead, Section.CLOSURE, set()),
        (HouseholdRead, Section.HOUSEHOLD, set()),
        (VulnerabilityScreening, Section.VULNERABILITY_SCREENING, {"kind"}),
        (NeedsAssessment, Section.NEEDS, {"kind"}),
        (SkillsAssessment, Section.SKILLS, {"kind"}),
        (HealthSummary, Section.HEALTH, {"kind"}),
        (RiskAssessment, Section.RISK, {"kind"}),
        (BestInterestsDetermination, Section.BEST_INTERESTS_DETERMINATION, {"kind"}),
    ],
)
def test_every_field_of_every_record_is_classified(schema: type, section: Section, structural: set[str]) -> None:
    mapping = SECTIONS[section]
    names = set(schema.model_fields) - {"withheld"} - structural
    unclassified = sorted(n for n in names if n not in mapping.fields and n not in mapping.structure)
    assert unclassified == []


def test_every_assessment_kind_has_a_section_and_a_write_category() -> None:
    assert set(ASSESSMENT_SECTION) == set(AssessmentKind) == set(ASSESSMENT_WRITE_CATEGORY)


def test_the_preview_lists_the_fields_of_each_category() -> None:
    fields = fields_by_category()
    assert [f for f in fields[C.IDENTITY_BIODATA] if f.startswith("beneficiary.")] == [
        "beneficiary.born_on",
        "beneficiary.born_on_is_estimated",
        "beneficiary.country_of_origin",
        "beneficiary.documents",
        "beneficiary.family_name",
        "beneficiary.given_name",
        "beneficiary.languages",
        "beneficiary.names",
        "beneficiary.nationality",
        "beneficiary.sex",
    ]
    assert fields[C.CONTACT] == ["beneficiary.contacts"]
    assert fields[C.HOUSEHOLD] == ["household.members", "household.return_configuration"]
    assert "case.vulnerability_categories" in fields[C.TRAFFICKING_HISTORY]
    assert "note.body" in fields[C.PSYCHOSOCIAL_NOTES]
    assert fields[C.FINANCIAL_PAYMENTS] == [
        "assistance.amount",
        "assistance.currency",
        "assistance.tranches",
        "assistance.version",  # it counts the delivered tranches
        "plan.grant_total",
    ]
    assert C.BIOMETRICS not in fields  # case-service keeps none

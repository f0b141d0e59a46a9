"""Which data category each field of the case file belongs to (data-protection.md §1.1).

One table serves the read projection (a reader sees a field only when the policy allows every category it
belongs to) and the disclosure preview (which fields would leave for a recipient), so the two cannot disagree.
Fields that belong to no category (ids, versions, stages, timestamps) are the case file's structure: they are
shown whenever the record itself is visible. A field missing from the table is treated as its section's
``default`` categories, so a new field is withheld until it is classified.
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from case_service.domain.assessments import AssessmentKind, VulnerabilityCategory
from case_service.domain.documents import KIND_CATEGORY, DocumentKind
from case_service.domain.models import RETURN_PROFILE_FIELDS
from casebridge_common.access import DataCategory

C = DataCategory
Categories = frozenset[DataCategory]
NONE: Categories = frozenset()


class Section(StrEnum):
    BENEFICIARY = "beneficiary"
    CASE = "case"
    VULNERABILITY_SCREENING = "assessment.vulnerability_screening"
    NEEDS = "assessment.needs"
    SKILLS = "assessment.skills"
    HEALTH = "assessment.health"
    RISK = "assessment.risk"
    BEST_INTERESTS_DETERMINATION = "assessment.best_interests_determination"
    PLAN = "plan"
    ASSISTANCE = "assistance"
    NOTE = "note"
    CLOSURE = "closure"
    HOUSEHOLD = "household"
    FOLLOW_UP = "follow_up"
    IDENTITY_DOCUMENT = "document.identity_document"
    TRAVEL_DOCUMENT = "document.travel_document"
    MEDICAL_RECORD = "document.medical_record"
    LEGAL_DOCUMENT = "document.legal_document"
    CERTIFICATE = "document.certificate"
    CONSENT_FORM = "document.consent_form"
    OTHER_DOCUMENT = "document.other"


ASSESSMENT_SECTION: Mapping[AssessmentKind, Section] = {
    AssessmentKind.VULNERABILITY_SCREENING: Section.VULNERABILITY_SCREENING,
    AssessmentKind.NEEDS: Section.NEEDS,
    AssessmentKind.SKILLS: Section.SKILLS,
    AssessmentKind.HEALTH: Section.HEALTH,
    AssessmentKind.RISK: Section.RISK,
    AssessmentKind.BEST_INTERESTS_DETERMINATION: Section.BEST_INTERESTS_DETERMINATION,
}

# A document's name, description and content belong to its kind's category (domain/documents.py).
DOCUMENT_SECTION: Mapping[DocumentKind, Section] = {kind: Section(f"document.{kind}") for kind in DocumentKind}


@dataclass(frozen=True, slots=True)
class SectionMap:
    fields: Mapping[str, Categories]
    default: Categories
    structure: frozenset[str] = field(default_factory=frozenset)

    def of(self, name: str) -> Categories:
        if name in self.structure:
            return NONE
        return self.fields.get(name, self.default)


def _all(categories: Categories, *names: str) -> dict[str, Categories]:
    return dict.fromkeys(names, categories)


_VULNERABILITY = frozenset({C.VULNERABILITY_RESULTS})
_DOCUMENT_STRUCTURE = frozenset(
    {
        "id",
        "case_id",
        "kind",
        "media_type",
        "size_bytes",
        "sha256",
        "erased",
        "uploaded_by",
        "uploaded_at",
        "deleted_by",  # the access report lists soft-deleted documents too
        "deleted_at",
    }
)
_SCREENING_FIELDS = (
    "assessment_type",
    "phase",
    "categories",
    "vulnerability_nature",
    "requires_immediate_intervention",
    "requires_long_term_response",
    "followup_screening_due_on",
    "shared_with_origin_consent",
    "notes",
)

SECTIONS: Mapping[Section, SectionMap] = {
    Section.BENEFICIARY: SectionMap(
        fields={
            **_all(
                frozenset({C.IDENTITY_BIODATA}),
                "given_name",
                "family_name",
                "sex",
                "born_on",
                "born_on_is_estimated",
                "nationality",
                "names",
                "languages",
                "documents",  # §1.1: documents are identity data (their numbers identify the person)
                "country_of_origin",
            ),
            "contacts": frozenset({C.CONTACT}),
            "current_location": frozenset({C.LOCATION}),
            # where the person returns or is resettled to is part of their migration history
            "country_of_return": frozenset({C.MIGRATION_HISTORY}),
            "country_of_resettlement": frozenset({C.MIGRATION_HISTORY}),
        },
        default=frozenset({C.IDENTITY_BIODATA}),
        structure=frozenset({"id", "registering_office_id", "registered_at", "version"}),
    ),
    Section.CASE: SectionMap(
        fields={
            "vulnerability_categories": _VULNERABILITY,
            "health_track": frozenset({C.HEALTH_FITNESS_TRAVEL}),
            "hold_reason": frozenset({C.CASE_NOTES}),
            # the return profile (reintegration.md §5.1): host country, absence, mode of return (§1.1)
            **_all(frozenset({C.MIGRATION_HISTORY}), *RETURN_PROFILE_FIELDS),
        },
        default=frozenset({C.CASE_NOTES}),
        structure=frozenset(
            {
                "id",
                "beneficiary_id",
                "programme",
                "stage",
                "owner_office_id",
                "owner_organisation_id",
                "assigned_worker",
                "opened_at",
                "version",
                "stage_changed_at",
                "held_from_stage",
                "pdo_track",
                "documents_track",
            }
        ),
    ),
    Section.VULNERABILITY_SCREENING: SectionMap(
        fields=_all(_VULNERABILITY, *_SCREENING_FIELDS), default=_VULNERABILITY
    ),
    Section.NEEDS: SectionMap(
        fields={
            "economic": frozenset({C.ECONOMIC_SITUATION}),
            "immediate_needs": frozenset({C.ECONOMIC_SITUATION}),
            "social": frozenset({C.PSYCHOSOCIAL_NOTES}),
            "psychosocial": frozenset({C.PSYCHOSOCIAL_NOTES}),
            "legal": frozenset({C.LEGAL_CRIMINAL}),
        },
        default=frozenset({C.PSYCHOSOCIAL_NOTES}),
    ),
    Section.SKILLS: SectionMap(
        fields=_all(
            frozenset({C.SKILLS_EMPLOYMENT}),
            "education_level_isced",
            "work_experience",
            "skills",
            "languages",
            "aspirations",
            "fit_to_work",
        ),
        default=frozenset({C.SKILLS_EMPLOYMENT}),
    ),
    Section.HEALTH: SectionMap(
        fields={
            "summary": frozenset({C.HEALTH_CLINICAL}),
            "life_saving_treatment_unavailable_in_origin": frozenset({C.HEALTH_CLINICAL}),
            "return_decision": frozenset({C.HEALTH_FITNESS_TRAVEL}),
            "needs_continuity_of_care": frozenset({C.HEALTH_FITNESS_TRAVEL}),
        },
        default=frozenset({C.HEALTH_CLINICAL}),
    ),
    Section.RISK: SectionMap(
        fields=_all(_VULNERABILITY, "risks", "mitigation", "security_plan", "responsible", "review_on"),
        default=_VULNERABILITY,
    ),
    Section.BEST_INTERESTS_DETERMINATION: SectionMap(
        fields=_all(frozenset({C.CHILD_PROTECTION}), "determined_on", "decision", "child_views_recorded", "reference"),
        default=frozenset({C.CHILD_PROTECTION}),
    ),
    Section.PLAN: SectionMap(
        fields={"content": frozenset({C.REINTEGRATION_PLAN}), "grant_total": frozenset({C.FINANCIAL_PAYMENTS})},
        default=frozenset({C.REINTEGRATION_PLAN}),
        structure=frozenset(
            {
                "id",
                "case_id",
                "version",
                "status",
                "drafted_in",
                "drafted_by",
                "drafted_at",
                "approved_by",
                "approved_at",
            }
        ),
    ),
    Section.ASSISTANCE: SectionMap(
        fields={
            **_all(frozenset({C.ASSISTANCE}), "assistance_type", "dimension", "modality", "provider", "plan_item"),
            **_all(frozenset({C.FINANCIAL_PAYMENTS}), "amount", "currency", "tranches", "version"),
        },
        default=frozenset({C.ASSISTANCE}),
        structure=frozenset({"id", "case_id", "status", "created_at"}),
    ),
    Section.NOTE: SectionMap(
        fields={"body": frozenset({C.CASE_NOTES})},
        default=frozenset({C.CASE_NOTES}),
        structure=frozenset({"id", "case_id", "is_confidential", "erased", "author", "written_at"}),
    ),
    Section.HOUSEHOLD: SectionMap(
        fields={"members": frozenset({C.HOUSEHOLD}), "return_configuration": frozenset({C.HOUSEHOLD})},
        default=frozenset({C.HOUSEHOLD}),
        structure=frozenset({"id", "registering_office_id", "created_at", "version"}),
    ),
    Section.CLOSURE: SectionMap(
        fields={
            "early_exit_reason": frozenset({C.CASE_NOTES}),
            "closing_assessment": frozenset({C.REINTEGRATION_PLAN}),
            "plan_review": frozenset({C.REINTEGRATION_PLAN}),
            "hand_off": frozenset({C.REINTEGRATION_PLAN}),
            "best_interests_determination_reference": frozenset({C.CHILD_PROTECTION}),
        },
        default=frozenset({C.CASE_NOTES}),
        structure=frozenset(
            {"case_id", "closure_reason", "closure_type", "exit_interview_on", "closed_by", "closed_at"}
        ),
    ),
    **{
        DOCUMENT_SECTION[kind]: SectionMap(
            fields=_all(frozenset({category}), "filename", "description", "content"),
            default=frozenset({category}),
            structure=_DOCUMENT_STRUCTURE,
        )
        for kind, category in KIND_CATEGORY.items()
    },
    Section.FOLLOW_UP: SectionMap(
        fields={
            "outcome": frozenset({C.CASE_NOTES}),
            "notes": frozenset({C.CASE_NOTES}),
            "psychosocial_notes": frozenset({C.PSYCHOSOCIAL_NOTES}),
        },
        default=frozenset({C.CASE_NOTES}),
        structure=frozenset(
            {
                "id",
                "case_id",
                "phase",
                "schedule",
                "anchor_on",
                "planned_on",
                "kind",
                "status",
                "held_on",
                "is_overdue",
                "overdue_at",
                "erased",
                "created_by",
                "created_at",
                "recorded_by",
                "recorded_at",
                "version",
            }
        ),
    ),
}

# Vulnerability codes that reveal more than a vulnerability result: who sees them needs those categories too.
_CODE_CATEGORIES: Mapping[str, DataCategory] = {
    VulnerabilityCategory.VICTIM_OF_TRAFFICKING: C.TRAFFICKING_HISTORY,
    VulnerabilityCategory.SEX_WORK_OR_SEXUAL_EXPLOITATION: C.TRAFFICKING_HISTORY,
    VulnerabilityCategory.UASC: C.CHILD_PROTECTION,
    VulnerabilityCategory.CHILD_SPECIFIC_RISK: C.CHILD_PROTECTION,
    VulnerabilityCategory.GBV_SURVIVOR: C.GBV_SOGIESC,
    VulnerabilityCategory.LGBTI: C.GBV_SOGIESC,
    VulnerabilityCategory.MENTAL_HEALTH_CONDITION: C.HEALTH_CLINICAL,
}


def vulnerability_code_categories(codes: object) -> Categories:
    """The categories beyond `vulnerability_results` that a list of vulnerability codes reveals."""
    if not isinstance(codes, list):
        return NONE
    return frozenset(_CODE_CATEGORIES[c] for c in codes if isinstance(c, str) and c in _CODE_CATEGORIES)


def categories_of(section: Section, name: str, value: object, *, confidential: bool = False) -> Categories:
    """Every category a reader must be allowed to see this field with this value."""
    categories = SECTIONS[section].of(name)
    if name == "categories" and section is Section.VULNERABILITY_SCREENING:
        categories |= vulnerability_code_categories(value)
    if name == "vulnerability_categories" and section is Section.CASE:
        categories |= vulnerability_code_categories(value)
    if confidential and section is Section.NOTE and name == "body":
        # R-M6: a confidential note holds counselling narratives, so it is psychosocial as well
        categories |= {C.PSYCHOSOCIAL_NOTES}
    return categories


@dataclass(frozen=True, slots=True)
class Redacted:
    """A record as one reader may see it: the fields kept, the categories they carry, the categories withheld."""

    data: dict[str, object]
    returned: Categories
    withheld: Categories

    @property
    def dropped_everything(self) -> bool:
        return not self.returned and bool(self.withheld)


def redact(
    section: Section, data: Mapping[str, object], allowed: Collection[DataCategory], *, confidential: bool = False
) -> Redacted:
    """Keep the fields whose categories are all allowed; withheld fields are left out of ``data``."""
    kept: dict[str, object] = {}
    returned: set[DataCategory] = set()
    withheld: set[DataCategory] = set()
    for name, value in data.items():
        needed = categories_of(section, name, value, confidential=confidential)
        missing = needed - set(allowed)
        if missing:
            withheld |= missing
        else:
            kept[name] = value
            if value is not None:
                returned |= needed
    return Redacted(kept, frozenset(returned), frozenset(withheld))


def fields_by_category() -> dict[DataCategory, list[str]]:
    """`section.field` names per category, as the disclosure preview lists them (value-dependent extras such
    as a trafficking code inside the vulnerability categories are named under the extra category too)."""
    out: dict[DataCategory, set[str]] = {}
    for section, mapping in SECTIONS.items():
        for name, categories in mapping.fields.items():
            for category in categories:
                out.setdefault(category, set()).add(f"{section}.{name}")
    for category in set(_CODE_CATEGORIES.values()):
        out.setdefault(category, set()).update(
            {f"{Section.VULNERABILITY_SCREENING}.categories", f"{Section.CASE}.vulnerability_categories"}
        )
    out.setdefault(C.PSYCHOSOCIAL_NOTES, set()).add(f"{Section.NOTE}.body")
    return {category: sorted(names) for category, names in sorted(out.items())}


# The category a write touches, for the policy's `edit` decision on a non-owner (an `edit` share).
ASSESSMENT_WRITE_CATEGORY: Mapping[AssessmentKind, DataCategory] = {
    AssessmentKind.VULNERABILITY_SCREENING: C.VULNERABILITY_RESULTS,
    AssessmentKind.NEEDS: C.ECONOMIC_SITUATION,
    AssessmentKind.SKILLS: C.SKILLS_EMPLOYMENT,
    AssessmentKind.HEALTH: C.HEALTH_CLINICAL,
    AssessmentKind.RISK: C.VULNERABILITY_RESULTS,
    AssessmentKind.BEST_INTERESTS_DETERMINATION: C.CHILD_PROTECTION,
}

"""The beneficiary's copy of a plan: language choice, translations of every template field, escaping."""

from collections.abc import Mapping

import pytest

from case_service.domain.plan_copy import LABELS, CopyLanguage, PlanFacts, build_copy, choose_language
from case_service.schemas import IncomeGeneratingSubType, PlanAssistanceType, PlanContent
from case_service.service_layer.plan_copy import render
from casebridge_common.events.contracts.case import Programme

CONTENT: Mapping[str, object] = PlanContent.model_validate(
    {
        "place_of_return": "Thiès",
        "summary_economic": "Tailoring <b>micro-business</b>",
        "summary_social": "Rejoin the family",
        "immediate_assistance": {"cash_assistance": True, "other": "Phone credit"},
        "items": [
            {"type": "income_generating_activity", "income_generating_sub_type": "individual_microbusiness"},
            {"type": "medical_support", "medical_target": ["returnee", "family"], "needs_referral": True},
        ],
        "grant_currency": "XOF",
        "grant_lines": [
            {"description": "Sewing machine", "estimated_cost": 250000},
            {"description": "Fabric stock", "estimated_cost": 80000.5},
        ],
        "referrals": [{"agency": "Centre de santé de Thiès", "assistance_to_be_provided": "Check-up"}],
        "baseline_scores": {"economic": 0.31, "social": 0.52, "psychosocial": 0.44, "composite": 0.42},
        "community_roster": [{"name": "Moussa Diop", "role": "Partner tailor"}],
        "estimated_duration_months": 12,
        "exit_strategy": "Self-sufficient once the shop covers rent",
        "done_on": "2026-11-30",
        "done_in": "Thiès",
        "returnee_signature": {"name": "Awa Ndiaye", "signed_on": "2026-11-30"},
    }
).model_dump(mode="json")


def facts(content: Mapping[str, object] = CONTENT, **overrides: object) -> PlanFacts:
    values: dict[str, object] = {
        "programme": Programme.RETURN_REINTEGRATION,
        "case_id": "7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11",
        "plan_version": 2,
        "plan_status": "approved",
        "content": content,
        "beneficiary_name": "Awa Ndiaye",
        "show_financial": True,
        "show_scores": True,
    } | overrides
    return PlanFacts(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("requested", "spoken", "expected"),
    [
        ("fr", (), (CopyLanguage.FR, False)),
        ("ar-IQ", (), (CopyLanguage.AR, False)),
        ("FR_sn", (), (CopyLanguage.FR, False)),
        ("wo", ("fr",), (CopyLanguage.EN, True)),
        (None, ("wo", "fr"), (CopyLanguage.FR, False)),
        (None, ("wo",), (CopyLanguage.EN, True)),
        (None, (), (CopyLanguage.EN, False)),
        ("en", ("ar",), (CopyLanguage.EN, False)),
    ],
)
def test_the_language_is_the_requested_one_else_the_beneficiarys_else_english(
    requested: str | None, spoken: tuple[str, ...], expected: tuple[CopyLanguage, bool]
) -> None:
    assert choose_language(requested, spoken) == expected


def test_every_language_translates_every_label_and_every_template_option() -> None:
    keys = set(LABELS[CopyLanguage.EN])
    for language in CopyLanguage:
        assert set(LABELS[language]) == keys, language
        assert all(LABELS[language].values())
    assert {f"type.{t}" for t in PlanAssistanceType} <= keys
    assert {f"sub.{s}" for s in IncomeGeneratingSubType} <= keys


def test_the_french_copy_labels_every_section_and_keeps_the_values() -> None:
    copy = build_copy(facts(), CopyLanguage.FR, fell_back=False)
    assert copy.title == "Plan de réintégration"
    assert copy.direction == "ltr"
    titles = [s.title for s in copy.sections]
    assert titles[1].startswith("1. Résumé")
    assert titles[-1] == "Signatures"
    assistance = copy.sections[2]
    assert assistance.tables[0].rows[0][:2] == (
        "Activité génératrice de revenus (création ou renforcement)",
        "Micro-entreprise individuelle",
    )
    assert assistance.tables[0].rows[1][2:4] == ("Personne de retour, Famille", "Oui")
    grant = copy.sections[3].tables[0]
    assert grant.headers == ("Biens / équipements / services", "Coût estimé (XOF)")
    assert grant.footer == ("Total", "330,000.50")


def test_withheld_parts_are_printed_as_not_shown() -> None:
    copy = build_copy(
        facts(beneficiary_name=None, show_financial=False, show_scores=False), CopyLanguage.EN, fell_back=False
    )
    assert copy.sections[0].rows[0].value == "Not shown"
    grant = copy.sections[3].tables[0]
    assert grant.headers == ("Goods / equipment / services",)
    assert grant.footer is None
    assert {row.value for row in copy.sections[5].rows} == {"Not shown"}


def test_the_arabic_copy_is_right_to_left() -> None:
    html = render(build_copy(facts(), CopyLanguage.AR, fell_back=False))
    assert '<html lang="ar" dir="rtl">' in html
    assert "خطة إعادة الإدماج" in html
    assert "1. ملخص خطة العائد" in html


def test_a_fallback_copy_says_it_is_in_english() -> None:
    html = render(build_copy(facts(), CopyLanguage.EN, fell_back=True))
    assert '<html lang="en" dir="ltr">' in html
    assert "this copy is in English" in html


def test_every_value_is_escaped() -> None:
    hostile = dict(CONTENT) | {"exit_strategy": "<script>alert('x')</script>", "place_of_return": '"><img src=x>'}
    html = render(build_copy(facts(hostile, beneficiary_name="<b>Awa</b>"), CopyLanguage.EN, fell_back=False))
    assert "<script>" not in html
    assert "<img" not in html
    assert "<b>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "&lt;b&gt;Awa&lt;/b&gt;" in html
    assert "Tailoring &lt;b&gt;micro-business&lt;/b&gt;" in html


def test_an_empty_plan_prints_every_field_blank() -> None:
    html = render(build_copy(facts({"place_of_return": "Kabul"}), CopyLanguage.EN, fell_back=False))
    for label in ("Economic", "Cash assistance", "Exit strategy", "Approved by the returnee (name and signature)"):
        assert label in html
    assert html.count("—") > 15

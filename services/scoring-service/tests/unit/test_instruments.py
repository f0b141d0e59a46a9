import pytest
from pydantic import ValidationError

from scoring_service.domain.instruments import InstrumentDocument, check_instrument
from scoring_service.domain.scoring import RiskBand, score
from scoring_service.instruments import checksum, shipped

DOCUMENTS = {d.version: d for d in shipped()}
RSS = DOCUMENTS["rss-default-v0"]
DOMV = DOCUMENTS["domv-screening-v0"]


def test_three_instruments_ship_each_labelled_as_this_projects_default() -> None:
    assert {(d.code, d.version) for d in DOCUMENTS.values()} == {
        ("rss", "rss-default-v0"),
        ("domv", "domv-screening-v0"),
        ("integration", "integration-default-v0"),
    }
    assert all(d.status == "casebridge-default" and d.label for d in DOCUMENTS.values())
    assert all(check_instrument(d) == [] for d in DOCUMENTS.values())


def test_the_rss_has_all_32_questions_in_order_with_verbatim_text_and_options() -> None:
    assert [q.id for q in RSS.questions] == [f"Q{n}" for n in range(1, 33)]
    by_id = {q.id: q for q in RSS.questions}
    assert by_id["Q2"].text == (
        "Since you returned, how often have you had to reduce the quantity or quality of food you eat "
        "because of its cost?"
    )
    assert [o.label for o in by_id["Q30"].options] == [
        "Yes",
        "No (please continue to Q32)",  # the printed label is kept; the routing is corrected (Q30 No -> Q31)
        "I don't know",
        "I don't wish to answer",
    ]
    assert [o.code for o in by_id["Q5"].options] == ["no_debt", "debt_larger", "spending_larger", "dwa", "na"]
    assert by_id["Q21"].derived is not None
    assert by_id["Q21"].derived.inputs == ["Q13", "Q15", "Q17", "Q18", "Q19"]
    assert {q.id for q in RSS.questions if q.scoring and q.scoring.weight == 2} == {"Q2", "Q25", "Q30"}
    assert {q.id for q in RSS.questions if q.scoring is None} == {"Q10", "Q31", "Q32"}
    assert any("Q30 routing defect" in note for note in RSS.notes)


def test_the_checksum_is_stable_for_the_same_document() -> None:
    again = InstrumentDocument.model_validate(RSS.model_dump(mode="json", by_alias=True))
    assert checksum(again) == checksum(RSS)


def _with(**changes: object) -> dict[str, object]:
    raw = RSS.model_dump(mode="json", by_alias=True)
    raw.update(changes)
    return raw


def test_a_document_with_an_unknown_field_is_refused_by_the_schema() -> None:
    with pytest.raises(ValidationError):
        InstrumentDocument.model_validate(_with(weights={"Q2": 3}))


def test_cross_field_mistakes_are_each_reported_with_a_pointer() -> None:
    raw = _with(dimensions=[{"code": "economic", "title": "Economic"}])
    questions = raw["questions"]
    assert isinstance(questions, list)
    questions[0]["scoring"]["values"]["excellent"] = 1.0
    problems = check_instrument(InstrumentDocument.model_validate(raw))
    pointers = {p.pointer for p in problems}
    assert "#/questions/0/scoring/values" in pointers
    assert "#/questions/10/dimension" in pointers  # Q11 names the social dimension, which is gone


def _coded(**codes: str) -> dict[str, str | list[str]]:
    return dict(codes)


def test_the_domv_worked_example_is_medium_and_a_red_flag_forces_high() -> None:
    answers = _coded(
        individual_status_in_society="risk_3",
        individual_histories_experiences="risk_3",
        individual_literacy_education="protective_2",
        household_size_structure="risk_1",
        household_socioeconomic_status="protective_3",
        community_physical_social_surroundings="risk_2",
        community_social_cohesion="protective_2",
    )
    result = score(DOMV, answers)
    assert [d.score for d in result.dimensions] == [0.5, -0.5, 0.0, None]
    assert result.composite == pytest.approx(0.0625)
    assert result.composite_band is RiskBand.MEDIUM
    flagged = score(DOMV, {**answers, "red_flag_uasc": "yes"})
    assert (flagged.composite, flagged.composite_band, flagged.red_flags) == (
        pytest.approx(0.0625),
        RiskBand.HIGH,
        ("red_flag_uasc",),
    )


def test_a_domv_screening_with_nothing_coded_has_no_index() -> None:
    result = score(DOMV, {"individual_beliefs_attitudes": "unknown"})
    assert (result.composite, result.composite_band, result.dk_dwa_count) == (None, None, 1)

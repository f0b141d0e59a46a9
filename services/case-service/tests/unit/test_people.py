"""Pure rules about people: name normalisation, the duplicate rule, households, minors and their guardians."""

from datetime import date
from uuid import UUID, uuid4

import pytest
from pydantic import ValidationError

from case_service.domain.errors import (
    GuardianNotAdult,
    GuardianNotMember,
    GuardianRequired,
    HouseholdHeadRequired,
    HouseholdMemberNotFound,
    HouseholdMemberRepeated,
)
from case_service.domain.people import (
    DUPLICATE_THRESHOLD,
    MAX_DUPLICATE_MATCHES,
    Candidate,
    EditedMember,
    MemberEdit,
    MemberFacts,
    MemberState,
    Relationship,
    birth_dates_match,
    check_household,
    edit_members,
    edited_pointer,
    likely_duplicates,
    normalised_name,
)
from case_service.schemas.people import Contact, Guardian, IdentityDocument, ScriptName, UpdateBeneficiary
from casebridge_common.problems import DomainError

TODAY = date(2026, 12, 2)
ADULT, CHILD = date(1990, 5, 1), date(2015, 6, 1)


@pytest.mark.parametrize(
    ("given", "family", "key"),
    [
        ("Awa", "Ndiaye", "awa ndiaye"),
        ("NDIAYE,", "Awa", "awa ndiaye"),
        ("  Awa ", "N'Diaye", "awa diaye n"),
        ("José-María", "Núñez", "jose maria nunez"),
        ("Ṣàlíhù", "Mùsá", "musa salihu"),
        ("Straße", "ÅSE", "ase strasse"),
    ],
)
def test_names_normalise_accents_case_punctuation_and_word_order(given: str, family: str, key: str) -> None:
    assert normalised_name(given, family) == key


def test_non_latin_letters_are_kept() -> None:
    assert normalised_name("عوا", "نجاي") == " ".join(sorted(["عوا", "نجاي"]))


@pytest.mark.parametrize(
    ("a", "a_est", "b", "b_est", "match"),
    [
        (date(1994, 3, 17), False, date(1994, 3, 17), False, True),
        (date(1994, 3, 17), False, date(1994, 3, 18), False, False),
        (date(1994, 1, 1), True, date(1994, 12, 31), False, True),
        (date(1994, 1, 1), False, date(1995, 1, 1), True, True),
        (date(1994, 1, 1), True, date(1995, 6, 1), True, False),
    ],
)
def test_exact_birth_dates_must_be_equal_and_estimated_ones_within_a_year(
    a: date, a_est: bool, b: date, b_est: bool, match: bool
) -> None:
    assert birth_dates_match(a, a_est, b, b_est) is match


def _candidate(score: float, born_on: date = date(1994, 3, 17), estimated: bool = False) -> Candidate:
    return Candidate(uuid4(), score, born_on, estimated)


def test_a_match_needs_a_similar_name_and_a_matching_birth_date() -> None:
    at_threshold = _candidate(DUPLICATE_THRESHOLD)
    best = _candidate(0.92)
    below = _candidate(DUPLICATE_THRESHOLD - 0.01)
    other_birthday = _candidate(1.0, date(1994, 3, 18))
    matches = likely_duplicates(
        [at_threshold, below, other_birthday, best], born_on=date(1994, 3, 17), born_on_is_estimated=False
    )
    assert [(m.beneficiary_id, m.score) for m in matches] == [
        (best.beneficiary_id, 0.92),
        (at_threshold.beneficiary_id, DUPLICATE_THRESHOLD),
    ]


def test_an_estimated_birth_date_widens_the_match_to_a_year() -> None:
    candidate = _candidate(0.8, date(1994, 1, 1), estimated=True)
    assert likely_duplicates([candidate], born_on=date(1994, 9, 30), born_on_is_estimated=False)
    assert not likely_duplicates([candidate], born_on=date(1995, 9, 30), born_on_is_estimated=False)


def test_matches_are_capped_and_stably_ordered() -> None:
    candidates = [_candidate(0.9) for _ in range(MAX_DUPLICATE_MATCHES + 5)]
    matches = likely_duplicates(candidates, born_on=date(1994, 3, 17), born_on_is_estimated=False)
    assert len(matches) == MAX_DUPLICATE_MATCHES
    assert [m.beneficiary_id for m in matches] == sorted((c.beneficiary_id for c in candidates), key=str)[
        :MAX_DUPLICATE_MATCHES
    ]


def member(
    relationship: Relationship,
    born_on: date = ADULT,
    *,
    guardian: UUID | None = None,
    external: bool = False,
    beneficiary_id: UUID | None = None,
) -> MemberFacts:
    return MemberFacts(beneficiary_id or uuid4(), relationship, born_on, guardian, external)


def test_a_household_with_a_head_and_guarded_minors_is_valid() -> None:
    head = member(Relationship.HEAD)
    check_household(
        [
            head,
            member(Relationship.CHILD, CHILD, guardian=head.beneficiary_id),
            member(Relationship.GRANDCHILD, CHILD, external=True),
            member(Relationship.SPOUSE_OR_PARTNER),
        ],
        today=TODAY,
    )


def test_a_child_headed_household_is_valid_with_an_external_guardian() -> None:
    check_household([member(Relationship.HEAD, CHILD, external=True)], today=TODAY)


def test_a_minor_comes_of_age_on_the_eighteenth_birthday() -> None:
    check_household([member(Relationship.HEAD, date(2008, 12, 2))], today=TODAY)
    with pytest.raises(GuardianRequired):
        check_household([member(Relationship.HEAD, date(2008, 12, 3))], today=TODAY)


def _refusal(members: list[MemberFacts]) -> DomainError:
    with pytest.raises(DomainError) as refused:
        check_household(members, today=TODAY)
    return refused.value


def test_household_refusals_name_the_rule_and_the_member() -> None:
    head = member(Relationship.HEAD)
    spouse = member(Relationship.SPOUSE_OR_PARTNER)
    young_sibling = member(Relationship.SIBLING, CHILD, external=True)
    cases: list[tuple[list[MemberFacts], type[DomainError], str]] = [
        ([member(Relationship.CHILD)], HouseholdHeadRequired, "#/members"),
        ([head, member(Relationship.HEAD)], HouseholdHeadRequired, "#/members"),
        ([head, spouse, spouse], HouseholdMemberRepeated, "#/members/2/beneficiary_id"),
        ([head, member(Relationship.CHILD, CHILD)], GuardianRequired, "#/members/1/guardian"),
        (
            [head, member(Relationship.CHILD, CHILD, guardian=uuid4())],
            GuardianNotMember,
            "#/members/1/guardian/beneficiary_id",
        ),
        (
            [head, young_sibling, member(Relationship.CHILD, CHILD, guardian=young_sibling.beneficiary_id)],
            GuardianNotAdult,
            "#/members/2/guardian/beneficiary_id",
        ),
    ]
    for members, kind, pointer in cases:
        refusal = _refusal(members)
        assert type(refusal) is kind
        assert refusal.context["pointer"] == pointer


def test_a_member_cannot_be_their_own_guardian() -> None:
    own = uuid4()
    refusal = _refusal([member(Relationship.HEAD), member(Relationship.CHILD, CHILD, guardian=own, beneficiary_id=own)])
    assert isinstance(refusal, GuardianNotMember)


def test_an_edit_removes_changes_and_adds_members_and_says_where_each_was_named() -> None:
    mother, father, child, baby = (uuid4() for _ in range(4))
    current = [
        MemberState(mother, Relationship.HEAD),
        MemberState(father, Relationship.SPOUSE_OR_PARTNER),
        MemberState(child, Relationship.CHILD, guardian_beneficiary_id=mother),
    ]
    edited = edit_members(
        current,
        remove=[mother],
        add=[MemberState(baby, Relationship.CHILD, guardian_beneficiary_id=father)],
        change=[
            MemberEdit(father, Relationship.HEAD),
            MemberEdit(child, sets_guardian=True, external_guardian={"full_name": "Aissatou Bah"}),
        ],
    )
    assert edited == [
        EditedMember(MemberState(father, Relationship.HEAD), "#/change_members/0"),
        EditedMember(MemberState(child, Relationship.CHILD, None, {"full_name": "Aissatou Bah"}), "#/change_members/1"),
        EditedMember(MemberState(baby, Relationship.CHILD, guardian_beneficiary_id=father), "#/add_members/0"),
    ]
    kept = edit_members(current, remove=[], add=[], change=[MemberEdit(father, Relationship.SIBLING)])
    assert kept[2] == EditedMember(current[2], None)  # untouched: keeps its guardian, named nowhere
    pointer = edited_pointer(kept)
    assert (pointer(1, "/guardian"), pointer(2, "/guardian")) == ("#/change_members/0/guardian", "#/change_members")


def test_an_edit_names_members_that_exist_and_nobody_twice() -> None:
    head, other = uuid4(), uuid4()
    current = [MemberState(head, Relationship.HEAD)]
    refusals: list[tuple[dict[str, list[object]], type[DomainError], str]] = [
        ({"remove": [other]}, HouseholdMemberNotFound, "#/remove_members/0"),
        (
            {"change": [MemberEdit(other, Relationship.CHILD)]},
            HouseholdMemberNotFound,
            "#/change_members/0/beneficiary_id",
        ),
        ({"add": [MemberState(head, Relationship.CHILD)]}, HouseholdMemberRepeated, "#/add_members/0/beneficiary_id"),
        ({"remove": [head, head]}, HouseholdMemberRepeated, "#/remove_members/1"),
        (
            {"remove": [head], "change": [MemberEdit(head, Relationship.CHILD)]},
            HouseholdMemberRepeated,
            "#/change_members/0/beneficiary_id",
        ),
        (
            {"add": [MemberState(other, Relationship.CHILD), MemberState(other, Relationship.SIBLING)]},
            HouseholdMemberRepeated,
            "#/add_members/1/beneficiary_id",
        ),
    ]
    for lists, kind, pointer in refusals:
        with pytest.raises(kind) as refused:
            edit_members(
                current,
                remove=lists.get("remove", []),  # type: ignore[arg-type]
                add=lists.get("add", []),  # type: ignore[arg-type]
                change=lists.get("change", []),  # type: ignore[arg-type]
            )
        assert refused.value.context["pointer"] == pointer


def test_an_edited_household_is_checked_with_the_pointers_of_the_request() -> None:
    head, child = uuid4(), uuid4()
    edited = edit_members(
        [MemberState(head, Relationship.HEAD), MemberState(child, Relationship.CHILD, guardian_beneficiary_id=head)],
        remove=[],
        add=[],
        change=[MemberEdit(child, sets_guardian=True)],
    )
    facts = [
        MemberFacts(
            e.state.beneficiary_id,
            e.state.relationship,
            CHILD if e.state.beneficiary_id == child else ADULT,
            None,
            False,
        )
        for e in edited
    ]
    with pytest.raises(GuardianRequired) as refused:
        check_household(facts, today=TODAY, pointer=edited_pointer(edited), heads_at="#/change_members")
    assert refused.value.context == {"pointer": "#/change_members/0/guardian", "beneficiary_id": str(child)}


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "phone", "value": "call me"},
        {"kind": "email", "value": "awa@"},
        {"kind": "phone", "value": "+221 77 123 45 67", "relationship": "sister"},
        {"kind": "phone", "value": "+221 77 123 45 67", "holder": "cousin"},
    ],
)
def test_malformed_contacts_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Contact.model_validate(body)


def test_a_trusted_contact_records_the_subjects_consent() -> None:
    contact = Contact.model_validate(
        {
            "kind": "phone",
            "value": "+221 76 000 11 22",
            "holder": "family_member",
            "holder_name": "Fatou Ndiaye",
            "consented_by_subject": True,
            "most_trusted": True,
        }
    )
    assert contact.consented_by_subject
    assert contact.most_trusted
    assert Contact.model_validate({"kind": "address", "value": "Pikine"}).consented_by_subject is False


@pytest.mark.parametrize(
    ("schema", "body"),
    [
        (ScriptName, {"script": "arabic", "given_name": "عوا", "family_name": "نجاي"}),
        (ScriptName, {"script": "Arab", "given_name": "عوا", "family_name": "نجاي", "transliteration_of": "Arab"}),
        (IdentityDocument, {"document_type": "passport", "number": "A1", "issuing_country": "sn"}),
        (
            IdentityDocument,
            {
                "document_type": "passport",
                "number": "A1",
                "issuing_country": "SN",
                "issued_on": "2025-01-01",
                "expires_on": "2024-01-01",
            },
        ),
        (Guardian, {}),
        (Guardian, {"beneficiary_id": str(uuid4()), "external": {"full_name": "X", "relationship": "aunt"}}),
        (UpdateBeneficiary, {}),
        (UpdateBeneficiary, {"given_name": None}),
        (UpdateBeneficiary, {"languages": ["wo", "wo"]}),
        (UpdateBeneficiary, {"languages": ["Wolof"]}),
    ],
)
def test_bad_details_are_refused(schema: type[ScriptName], body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        schema.model_validate(body)


def test_a_patch_may_clear_an_optional_field() -> None:
    assert UpdateBeneficiary.model_validate({"current_location": None}).model_fields_set == {"current_location"}

"""People around a case: households and their members, guardians of minors, and the duplicate-registration rule.

Pure: no I/O, no clock (today's date is an argument). The tables hold the household (registered by one office)
and its members (registered beneficiaries of that office), each with a relationship to the head and, for a minor,
a guardian: another member of the household or an external person (reintegration.md §5.2, the `Guardian` record).
"""

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import Column, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from case_service.domain.errors import (
    GuardianNotAdult,
    GuardianNotMember,
    GuardianRequired,
    HouseholdHeadRequired,
    HouseholdMemberNotFound,
    HouseholdMemberRepeated,
)
from case_service.domain.models import is_minor
from casebridge_common.db import enum_type

# pg_trgm similarity of two normalised full names from which a registration counts as a likely duplicate
DUPLICATE_THRESHOLD = 0.6
MAX_DUPLICATE_MATCHES = 10


class Relationship(StrEnum):
    """A member's relationship to the head of the household."""

    HEAD = "head"
    SPOUSE_OR_PARTNER = "spouse_or_partner"
    CHILD = "child"
    STEPCHILD = "stepchild"
    PARENT = "parent"
    SIBLING = "sibling"
    GRANDCHILD = "grandchild"
    GRANDPARENT = "grandparent"
    OTHER_RELATIVE = "other_relative"
    NON_RELATIVE = "non_relative"


class ReturnConfiguration(StrEnum):
    """reintegration.md §5.2 `return_configuration`."""

    INDIVIDUAL = "individual"
    FAMILY_UNIT_RETURNING = "family_unit_returning"
    FAMILY_STAYED_BEHIND = "family_stayed_behind"


class Household(SQLModel, table=True):
    __tablename__ = "households"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    registering_office_id: str = Field(index=True)
    registering_organisation_id: str | None = None
    return_configuration: ReturnConfiguration | None = Field(default=None, sa_type=enum_type(ReturnConfiguration))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    version: int = 1


class HouseholdMember(SQLModel, table=True):
    """One beneficiary in one household (a person is a member of one household at most)."""

    __tablename__ = "household_members"

    beneficiary_id: UUID = Field(foreign_key="beneficiaries.id", primary_key=True)
    household_id: UUID = Field(foreign_key="households.id", index=True)
    relationship_to_head: Relationship = Field(sa_type=enum_type(Relationship))
    guardian_beneficiary_id: UUID | None = Field(default=None, foreign_key="beneficiaries.id")
    # an external guardian: full_name, relationship, appointing_authority, decision_reference, appointed_on
    external_guardian: dict[str, object] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))


@dataclass(frozen=True, slots=True)
class MemberFacts:
    """What the household rules need to know of a member."""

    beneficiary_id: UUID
    relationship: Relationship
    born_on: date
    guardian_beneficiary_id: UUID | None
    has_external_guardian: bool


# Where a member's problem points in the request: (the member's index in the checked list, the path within the
# member, e.g. "/guardian") -> a JSON pointer.
Pointer = Callable[[int, str], str]


def at_members(index: int, path: str) -> str:
    """A registration's members: `#/members/{index}...`."""
    return f"#/members/{index}{path}"


def check_household(
    members: Sequence[MemberFacts], *, today: date, pointer: Pointer = at_members, heads_at: str = "#/members"
) -> None:
    """Exactly one head; nobody twice; every minor has a guardian, and a guardian who is a member is another,
    adult member of the same household. A refusal names the member (`beneficiary_id`) and points at it."""
    heads = [m for m in members if m.relationship is Relationship.HEAD]
    if len(heads) != 1:
        raise HouseholdHeadRequired(pointer=heads_at, heads=len(heads))
    by_id: dict[UUID, MemberFacts] = {}
    for index, member in enumerate(members):
        if member.beneficiary_id in by_id:
            raise HouseholdMemberRepeated(pointer=pointer(index, "/beneficiary_id"))
        by_id[member.beneficiary_id] = member
    for index, member in enumerate(members):
        who = str(member.beneficiary_id)
        if member.guardian_beneficiary_id is not None:
            guardian = by_id.get(member.guardian_beneficiary_id)
            if guardian is None or guardian.beneficiary_id == member.beneficiary_id:
                raise GuardianNotMember(pointer=pointer(index, "/guardian/beneficiary_id"), beneficiary_id=who)
            if is_minor(guardian.born_on, today):
                raise GuardianNotAdult(pointer=pointer(index, "/guardian/beneficiary_id"), beneficiary_id=who)
        elif is_minor(member.born_on, today) and not member.has_external_guardian:
            raise GuardianRequired(pointer=pointer(index, "/guardian"), beneficiary_id=who)


@dataclass(frozen=True, slots=True)
class MemberState:
    """A member as stored: the relationship to the head and the guardian (a member, or an external person)."""

    beneficiary_id: UUID
    relationship: Relationship
    guardian_beneficiary_id: UUID | None = None
    external_guardian: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class MemberEdit:
    """A change of one member: a new relationship (None: kept) and/or, when `sets_guardian`, a new guardian
    (both None: none)."""

    beneficiary_id: UUID
    relationship: Relationship | None = None
    sets_guardian: bool = False
    guardian_beneficiary_id: UUID | None = None
    external_guardian: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class EditedMember:
    """A member after an edit, and where the request named it (None: untouched by the request)."""

    state: MemberState
    named_at: str | None


def edit_members(
    current: Sequence[MemberState],
    *,
    remove: Sequence[UUID],
    add: Sequence[MemberState],
    change: Sequence[MemberEdit],
) -> list[EditedMember]:
    """The members after removing, adding and changing, in that order of the request's lists: removed and
    changed people must be members, added ones must not be, and nobody is named twice. The result still has to
    pass :func:`check_household`."""
    by_id = {m.beneficiary_id: m for m in current}
    named: set[UUID] = set()

    def name(beneficiary_id: UUID, at: str, *, member: bool) -> None:
        if beneficiary_id in named or (not member and beneficiary_id in by_id):
            raise HouseholdMemberRepeated(pointer=at)
        if member and beneficiary_id not in by_id:
            raise HouseholdMemberNotFound(pointer=at)
        named.add(beneficiary_id)

    for index, beneficiary_id in enumerate(remove):
        name(beneficiary_id, f"#/remove_members/{index}", member=True)
    changes: dict[UUID, tuple[MemberEdit, str]] = {}
    for index, edit in enumerate(change):
        name(edit.beneficiary_id, f"#/change_members/{index}/beneficiary_id", member=True)
        changes[edit.beneficiary_id] = (edit, f"#/change_members/{index}")
    for index, added in enumerate(add):
        name(added.beneficiary_id, f"#/add_members/{index}/beneficiary_id", member=False)
    removed = set(remove)
    edited: list[EditedMember] = []
    for member in current:
        if member.beneficiary_id in removed:
            continue
        if member.beneficiary_id not in changes:
            edited.append(EditedMember(member, None))
            continue
        edit, at = changes[member.beneficiary_id]
        state = member if edit.relationship is None else replace(member, relationship=edit.relationship)
        if edit.sets_guardian:
            state = replace(
                state,
                guardian_beneficiary_id=edit.guardian_beneficiary_id,
                external_guardian=edit.external_guardian,
            )
        edited.append(EditedMember(state, at))
    edited.extend(EditedMember(added, f"#/add_members/{index}") for index, added in enumerate(add))
    return edited


def edited_pointer(members: Sequence[EditedMember]) -> Pointer:
    """Where a problem of an edited household's member points: its entry in the request, or `#/change_members`
    for a member the request left untouched (the fix is to change it, e.g. give it another guardian)."""

    def pointer(index: int, path: str) -> str:
        named_at = members[index].named_at
        return "#/change_members" if named_at is None else named_at + path

    return pointer


def normalised_name(*parts: str) -> str:
    """The comparison key of a full name: accents and case folded, punctuation dropped, the words sorted (so
    "NDIAYE, Awa" and "Awa Ndiaye" are the same key)."""
    decomposed = unicodedata.normalize("NFKD", " ".join(parts))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    words = "".join(ch if ch.isalnum() else " " for ch in stripped).split()
    return " ".join(sorted(words))


def birth_dates_match(a: date, a_estimated: bool, b: date, b_estimated: bool) -> bool:
    """Two exact dates of birth match when equal; when either is estimated, within a year of each other."""
    if not a_estimated and not b_estimated:
        return a == b
    return abs((a - b).days) <= 366


@dataclass(frozen=True, slots=True)
class Candidate:
    """A registered beneficiary of the same nationality whose name is similar (the SQL pre-filter)."""

    beneficiary_id: UUID
    name_similarity: float
    born_on: date
    born_on_is_estimated: bool


@dataclass(frozen=True, slots=True)
class DuplicateMatch:
    beneficiary_id: UUID
    score: float


def likely_duplicates(
    candidates: Sequence[Candidate], *, born_on: date, born_on_is_estimated: bool
) -> list[DuplicateMatch]:
    """The candidates that are likely the same person: a name similarity at or above the threshold and a
    matching date of birth, best first (ties by id, so the answer is stable)."""
    matches = [
        DuplicateMatch(c.beneficiary_id, round(c.name_similarity, 3))
        for c in candidates
        if c.name_similarity >= DUPLICATE_THRESHOLD
        and birth_dates_match(c.born_on, c.born_on_is_estimated, born_on, born_on_is_estimated)
    ]
    matches.sort(key=lambda m: (-m.score, str(m.beneficiary_id)))
    return matches[:MAX_DUPLICATE_MATCHES]

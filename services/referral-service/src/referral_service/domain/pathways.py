"""Referral pathways and destination ranking (referrals.md §2.6, §4). Pure.

CB-DEFAULT ranking: eligibility match → capacity → the pathway's order (who first, then the fallbacks) →
language → distance → past completion rate. A full first-choice provider therefore falls behind its fallback.
"""

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Person:
    """What the sender tells the search about the person; nothing of it is stored."""

    age: int | None = None
    sex: str | None = None
    language: str | None = None
    vulnerability: str | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    service_id: str
    minimum_age: int | None
    maximum_age: int | None
    eligible_sexes: tuple[str, ...]
    target_groups: tuple[str, ...]
    languages: tuple[str, ...]
    accepting_referrals: bool
    distance_km: float | None
    completion_rate: float | None
    pathway_step: int | None  # 0 = refer here first; None = not on the pathway


@dataclass(frozen=True, slots=True)
class Suggestion:
    candidate: Candidate
    rank: int
    eligible: bool
    speaks_language: bool
    reasons: tuple[str, ...]


def is_eligible(candidate: Candidate, person: Person) -> bool:
    """Empty eligibility lists mean everyone; an unknown fact about the person never excludes."""
    if person.age is not None:
        if candidate.minimum_age is not None and person.age < candidate.minimum_age:
            return False
        if candidate.maximum_age is not None and person.age > candidate.maximum_age:
            return False
    if person.sex is not None and candidate.eligible_sexes and person.sex not in candidate.eligible_sexes:
        return False
    return not (
        person.vulnerability is not None
        and candidate.target_groups
        and person.vulnerability not in candidate.target_groups
    )


def _reasons(candidate: Candidate, eligible: bool, speaks: bool) -> tuple[str, ...]:
    reasons = ["eligible" if eligible else "not-eligible"]
    reasons.append("accepting-referrals" if candidate.accepting_referrals else "not-accepting-referrals")
    if candidate.pathway_step is not None:
        reasons.append("pathway-first-choice" if candidate.pathway_step == 0 else "pathway-fallback")
    reasons.append("speaks-language" if speaks else "no-shared-language")
    return tuple(reasons)


def rank(candidates: list[Candidate], person: Person) -> list[Suggestion]:
    def facts(c: Candidate) -> tuple[bool, bool]:
        return is_eligible(c, person), person.language is None or person.language in c.languages

    def key(c: Candidate) -> tuple[bool, bool, float, bool, float, float, str]:
        eligible, speaks = facts(c)
        return (
            not eligible,
            not c.accepting_referrals,
            float(c.pathway_step) if c.pathway_step is not None else math.inf,
            not speaks,
            c.distance_km if c.distance_km is not None else math.inf,
            -(c.completion_rate or 0.0),
            c.service_id,
        )

    ordered = sorted(candidates, key=key)
    return [
        Suggestion(c, position, *facts(c), reasons=_reasons(c, *facts(c)))
        for position, c in enumerate(ordered, start=1)
    ]

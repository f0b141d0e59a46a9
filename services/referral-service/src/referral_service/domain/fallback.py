"""Fallback redirects after a missed acknowledgement (referrals.md §6: OVERDUE → REDIRECTED, §6.3
`auto_redirect_after_overdue`) and the pathway's required consent categories (§4). Pure: no I/O, no clock."""

from collections.abc import Iterable, Mapping, Sequence

from casebridge_common.access import DataCategory


def fallback_candidates(
    *,
    explicit: str | None,
    pathway_service_ids: Sequence[str],
    pathway_redirects: bool,
    current_service_id: str | None,
    tried: Iterable[str],
) -> list[str]:
    """The services to redirect to, in order: the referral's own fallback, then (when the pathway redirects) the
    pathway's services after the current destination (all of them when the destination is not on it). A service
    the chain of redirects already tried is never offered again."""
    seen = set(tried)
    if current_service_id is not None:
        seen.add(current_service_id)
    ordered: list[str] = [explicit] if explicit is not None else []
    if pathway_redirects:
        ids = list(pathway_service_ids)
        after = ids[ids.index(current_service_id) + 1 :] if current_service_id in ids else ids
        ordered.extend(after)
    chosen: list[str] = []
    for service_id in ordered:
        if service_id not in seen:
            seen.add(service_id)
            chosen.append(service_id)
    return chosen


def first_accepting(candidates: Sequence[str], accepting: Mapping[str, bool]) -> str | None:
    """The first candidate whose service is accepting referrals now (unknown services are not)."""
    return next((c for c in candidates if accepting.get(c, False)), None)


def missing_categories(
    required: Iterable[DataCategory | str], allowed: Iterable[DataCategory | str]
) -> list[DataCategory]:
    """The required categories a manifest does not let the destination have, sorted."""
    have = {DataCategory(c) for c in allowed}
    return sorted({DataCategory(c) for c in required} - have)

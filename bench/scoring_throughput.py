"""In-process RSS scoring throughput (target: at least 50,000 surveys per second on one core).

Prints scoring-service's `score()` (validation against the instrument document, routing, value maps, weights,
contributions, bands) beside a plain-Python baseline that does only the same arithmetic with hard-coded maps,
both measured in this run on the spec's worked cases T1-T6.
"""

import time
from collections.abc import Callable, Mapping, Sequence

from scoring_service.domain.instruments import InstrumentDocument
from scoring_service.domain.scoring import Answer, score
from scoring_service.instruments import shipped
from scoring_service.instruments.worked_examples import T1, T2, T3, T4, T5, T6

SURVEYS: list[Mapping[str, Answer]] = [T1, T2, T3, T4, T5, T6]
SECONDS = 2.0


def plain_baseline(document: InstrumentDocument) -> Callable[[Mapping[str, Answer]], tuple[float | None, ...]]:
    """The bare weighted means: value lookups, Q21, Q30/Q31, per-dimension and composite sums. Nothing else."""
    items: list[tuple[str, str, float, dict[str, float]]] = []
    for q in document.questions:
        if q.scoring is not None and q.dimension is not None and q.derived is None:
            items.append((q.id, q.dimension, q.scoring.weight, dict(q.scoring.values)))
    q21 = ("Q13", "Q15", "Q17", "Q18", "Q19")
    q31 = {"wish_to_leave": 0.5, "need_to_leave": 0.0}

    def run(answers: Mapping[str, Answer]) -> tuple[float | None, ...]:
        values: dict[str, float] = {}
        sums = {"economic": [0.0, 0.0], "social": [0.0, 0.0], "psychosocial": [0.0, 0.0]}
        for qid, dimension, weight, value_map in items:
            answer = answers.get(qid)
            if answer is None:
                continue
            if isinstance(answer, str):
                if qid == "Q30" and answer == "no":
                    follow = answers.get("Q31")
                    value: float | None = q31.get(follow, 0.0) if isinstance(follow, str) else 0.0
                else:
                    value = value_map.get(answer)
            else:
                valued = [value_map[c] for c in answer if c in value_map]
                value = max(valued) if valued else None
            if value is not None:
                values[qid] = value
                sums[dimension][0] += weight * value
                sums[dimension][1] += weight
        present = [values[q] for q in q21 if q in values]
        if present:
            sums["social"][0] += sum(present) / len(present)
            sums["social"][1] += 1.0
        total = sum(s[0] for s in sums.values()), sum(s[1] for s in sums.values())
        return (*(s[0] / s[1] if s[1] else None for s in sums.values()), total[0] / total[1] if total[1] else None)

    return run


def rate(label: str, fn: Callable[[Mapping[str, Answer]], object], surveys: Sequence[Mapping[str, Answer]]) -> float:
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < SECONDS:
        for answers in surveys:
            fn(answers)
        done += len(surveys)
    per_second = done / elapsed
    print(f"{label:<52} {per_second:>12,.0f} surveys/s")
    return per_second


def main() -> None:
    rss = next(d for d in shipped() if d.version == "rss-default-v0")
    baseline = plain_baseline(rss)
    for answers in SURVEYS:  # the two compute the same scores before they race
        result = score(rss, answers)
        plain = baseline(answers)
        expected = (*(d.score for d in result.dimensions), result.composite)
        assert all(  # noqa: S101 - a benchmark that measures wrong arithmetic is worthless
            (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-12)
            for a, b in zip(expected, plain, strict=True)
        )
    print(f"RSS in-process scoring, one core, {SECONDS:.0f} s each (target: 50,000 surveys/s)")
    base = rate("plain-Python baseline (same arithmetic only)", baseline, SURVEYS)
    ours = rate("scoring_service.domain.scoring.score (validated)", lambda a: score(rss, a), SURVEYS)
    print(f"{'ratio scoring-service / baseline':<52} {ours / base:>12.2f}")


if __name__ == "__main__":
    main()

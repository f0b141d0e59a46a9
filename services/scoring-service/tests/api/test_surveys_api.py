"""The scoring API over HTTP: real tokens, real PostgreSQL; refusals are problem+json and store nothing."""

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from casebridge_common.events.contracts.case import Programme, quarter
from casebridge_common.outbox import OutboxMessage
from casebridge_common.testing.plugin import TokenFor, bearer
from scoring_service.domain.models import Score, Survey
from scoring_service.instruments.worked_examples import T1, T2, T3, T4

SUBMIT = "surveys:submit surveys:read scores:read"
OpenCase = Callable[..., Awaitable[uuid.UUID]]


def office(token: TokenFor, client_id: str = "de-berlin-system", scope: str = SUBMIT) -> dict[str, str]:
    return bearer(token(client_id, "scoring-api", scope))


def survey(case_id: uuid.UUID, answers: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "case_id": str(case_id),
        "instrument": "rss",
        "instrument_version": "rss-default-v0",
        "administration": "baseline",
        "interviewed_on": "2026-12-01",
        "mode": "in_person",
        "consent_form": "written",
        "interviewer_independent_of_case": True,
        "answers": answers,
        **extra,
    }


async def rows(test_db_url: str, model: type, case_id: uuid.UUID) -> int:
    engine = create_async_engine(test_db_url)
    async with engine.connect() as conn:
        found = await conn.scalar(select(func.count()).select_from(model).where(model.case_id == case_id))  # type: ignore[attr-defined]
    await engine.dispose()
    return int(found or 0)


async def events_of(test_db_url: str, case_id: uuid.UUID) -> list[dict[str, Any]]:
    engine = create_async_engine(test_db_url)
    async with engine.connect() as conn:
        found = (
            await conn.execute(
                select(OutboxMessage.event).where(OutboxMessage.key == str(case_id)).order_by(OutboxMessage.seq)  # type: ignore[arg-type]
            )
        ).scalars()
        events = [dict(e) for e in found]
    await engine.dispose()
    return events


async def test_instruments_are_listed_and_readable_by_version(client: httpx.AsyncClient, token: TokenFor) -> None:
    listed = await client.get("/v1/instruments", headers=office(token))
    assert listed.status_code == 200, listed.text
    versions = {(i["code"], i["version"], i["status"]) for i in listed.json()["items"]}
    assert ("rss", "rss-default-v0", "casebridge-default") in versions
    one = await client.get("/v1/instruments/rss/versions/rss-default-v0", headers=office(token))
    assert one.status_code == 200
    assert len(one.json()["document"]["questions"]) == 32
    missing = await client.get("/v1/instruments/rss/versions/nope", headers=office(token))
    assert (missing.status_code, missing.json()["code"]) == (404, "instrument-not-found")


async def test_the_baseline_is_scored_stored_and_announced_without_answers(
    client: httpx.AsyncClient, token: TokenFor, open_case: OpenCase, test_db_url: str
) -> None:
    case_id = await open_case()
    headers = {**office(token), "Idempotency-Key": f"baseline-{case_id}"}
    response = await client.post("/v1/surveys", json=survey(case_id, T3), headers=headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "scored"
    score = body["score"]
    assert score["composite"] == pytest.approx(0.4546875)
    assert (score["vulnerability_index"], score["vulnerability_band"]) == (None, None)  # a survey, not a screening
    assert [(d["dimension"], d["band"]) for d in score["dimensions"]] == [
        ("economic", "intensified"),
        ("social", "standard"),
        ("psychosocial", "standard"),
    ]
    assert (score["instrument_version"], score["kind"], score["change"]) == ("rss-default-v0", "primary", None)
    replay = await client.post("/v1/surveys", json=survey(case_id, T3), headers=headers)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == body
    assert await rows(test_db_url, Survey, case_id) == 1
    events = await events_of(test_db_url, case_id)
    types = [e["type"] for e in events]
    assert types[0] == "casebridge.survey.due.v1"
    assert "casebridge.score.computed.v1" in types
    crossed = [e["data"] for e in events if e["type"] == "casebridge.score.threshold_crossed.v1"]
    assert [(c["scope"], c["band"]) for c in crossed] == [("economic", "intensified")]
    assert all("answers" not in e["data"] for e in events)
    schedules = await client.get("/v1/surveys/schedules", params={"case_id": str(case_id)}, headers=office(token))
    by_kind = {(s["administration"], s["status"]) for s in schedules.json()}
    assert by_kind == {("baseline", "completed"), ("repeat", "due"), ("intermediary", "due"), ("final", "due")}
    due = sorted(s["due_on"] for s in schedules.json() if s["administration"] == "repeat")
    assert due == ["2027-03-01"]


async def test_history_shows_the_change_between_administrations_in_pages(
    client: httpx.AsyncClient, token: TokenFor, open_case: OpenCase
) -> None:
    case_id = await open_case()
    for answers, administration in [(T3, "baseline"), (T1, "repeat"), (T2, "intermediary")]:
        posted = await client.post(
            "/v1/surveys", json=survey(case_id, answers, administration=administration), headers=office(token)
        )
        assert posted.status_code == 201, posted.text
    first = await client.get("/v1/surveys", params={"case_id": str(case_id), "limit": 2}, headers=office(token))
    assert first.status_code == 200, first.text
    page = first.json()
    assert [s["administration"] for s in page["items"]] == ["baseline", "repeat"]
    assert page["items"][1]["score"]["change"]["economic"] == pytest.approx(0.85)
    rest = await client.get(
        "/v1/surveys",
        params={"case_id": str(case_id), "limit": 2, "cursor": page["next_cursor"]},
        headers=bearer(token("de-berlin-system", "scoring-api", "scores:read")),
    )
    assert [s["administration"] for s in rest.json()["items"]] == ["intermediary"]
    assert rest.json()["items"][0]["score"]["change"]["composite"] == pytest.approx(-1.0)
    assert rest.json()["next_cursor"] is None


async def test_a_what_if_rescore_is_a_separate_record_and_leaves_the_score_unchanged(
    client: httpx.AsyncClient, token: TokenFor, open_case: OpenCase
) -> None:
    case_id = await open_case()
    posted = (await client.post("/v1/surveys", json=survey(case_id, T3), headers=office(token))).json()
    document = (await client.get("/v1/instruments/rss/versions/rss-default-v0", headers=office(token))).json()
    custom = {**document["document"], "version": f"org-{uuid.uuid4().hex[:8]}", "status": "organisation"}
    for question in custom["questions"]:
        if question["id"] == "Q2":
            question["scoring"]["weight"] = 3
    loaded = await client.post(
        "/v1/instruments/rss/versions", json=custom, headers=office(token, scope="instruments:write")
    )
    assert loaded.status_code == 201, loaded.text
    assert loaded.json()["loaded_by_organisation_id"] == "iom-germany"
    again = await client.post(
        "/v1/instruments/rss/versions", json=custom, headers=office(token, scope="instruments:write")
    )
    assert (again.status_code, again.json()["code"]) == (409, "instrument-version-exists")
    what_if = await client.post(
        f"/v1/surveys/{posted['id']}/what-if-scores",
        json={"instrument_version": custom["version"]},
        headers=office(token),
    )
    assert what_if.status_code == 201, what_if.text
    assert (what_if.json()["kind"], what_if.json()["instrument_version"]) == ("what_if", custom["version"])
    assert what_if.json()["dimensions"][0]["score"] == pytest.approx(1.75 / 11)
    detail = (await client.get(f"/v1/surveys/{posted['id']}", headers=office(token))).json()
    assert detail["score"] == posted["score"]
    assert [s["instrument_version"] for s in detail["what_if_scores"]] == [custom["version"]]
    assert detail["answers"]["Q1"] == "dissatisfied"


async def test_an_inconsistent_instrument_document_is_a_422_naming_each_field(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    document = (await client.get("/v1/instruments/rss/versions/rss-default-v0", headers=office(token))).json()
    broken = {**document["document"], "version": "broken-1", "status": "organisation"}
    broken["questions"][0]["scoring"]["values"]["superb"] = 1.0
    response = await client.post(
        "/v1/instruments/rss/versions", json=broken, headers=office(token, scope="instruments:write")
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "instrument-invalid"
    assert response.json()["errors"] == [
        {"pointer": "#/questions/0/scoring/values", "detail": "'superb' is not an option of Q1"}
    ]
    without_scope = await client.post("/v1/instruments/rss/versions", json=broken, headers=office(token))
    assert without_scope.status_code == 403


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"answers": {**T3, "Q99": "yes"}}, "survey-answers-invalid"),
        ({"answers": {**T3, "Q1": "splendid"}}, "survey-answers-invalid"),
        ({"answers": {k: v for k, v in T3.items() if k != "Q20"}}, "survey-answers-invalid"),
        ({"answers": {**T3, "Q9": "no"}}, "survey-answers-invalid"),
        ({"instrument_version": "rss-v9"}, "instrument-version-unknown"),
        ({"instrument": "integration", "instrument_version": "integration-default-v0"}, "instrument-not-applicable"),
        ({"consent_form": None}, "validation-error"),
        ({"surprise": 1}, "validation-error"),
    ],
)
async def test_invalid_submissions_are_refused_and_store_nothing(
    client: httpx.AsyncClient,
    token: TokenFor,
    open_case: OpenCase,
    test_db_url: str,
    change: dict[str, Any],
    code: str,
) -> None:
    case_id = await open_case()
    body = {k: v for k, v in {**survey(case_id, T3), **change}.items() if v is not None}
    response = await client.post("/v1/surveys", json=body, headers=office(token))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert await rows(test_db_url, Survey, case_id) == 0
    assert await rows(test_db_url, Score, case_id) == 0
    assert [e["type"] for e in await events_of(test_db_url, case_id)] == ["casebridge.survey.due.v1"]


async def test_a_case_of_another_office_or_never_announced_is_404(
    client: httpx.AsyncClient, token: TokenFor, open_case: OpenCase, test_db_url: str
) -> None:
    case_id = await open_case()
    for target, client_id in [(case_id, "iq-erbil-system"), (uuid.uuid4(), "de-berlin-system")]:
        response = await client.post("/v1/surveys", json=survey(target, T3), headers=office(token, client_id))
        assert (response.status_code, response.json()["code"]) == (404, "case-not-found")
        listed = await client.get("/v1/surveys", params={"case_id": str(target)}, headers=office(token, client_id))
        assert (listed.status_code, listed.json()["code"]) == (404, "case-not-found")
    assert await rows(test_db_url, Survey, case_id) == 0


async def test_an_interrupted_survey_is_discarded_without_answers_or_score(
    client: httpx.AsyncClient, token: TokenFor, open_case: OpenCase, test_db_url: str
) -> None:
    case_id = await open_case()
    partial = {k: v for k, v in T4.items() if int(k[1:]) < 17}
    response = await client.post("/v1/surveys", json=survey(case_id, partial, interrupted=True), headers=office(token))
    assert response.status_code == 201, response.text
    assert (response.json()["status"], response.json()["score"]) == ("discarded", None)
    detail = (await client.get(f"/v1/surveys/{response.json()['id']}", headers=office(token))).json()
    assert detail["answers"] is None
    assert await rows(test_db_url, Score, case_id) == 0
    rescore = await client.post(
        f"/v1/surveys/{response.json()['id']}/what-if-scores",
        json={"instrument_version": "rss-default-v0"},
        headers=office(token),
    )
    assert (rescore.status_code, rescore.json()["code"]) == (409, "survey-not-scored")


async def test_a_batch_stores_the_valid_items_and_answers_each_refused_one_with_its_problem(
    client: httpx.AsyncClient, token: TokenFor, open_case: OpenCase, test_db_url: str
) -> None:
    case_id, other = await open_case(), await open_case(office="iq-erbil")
    items = [
        survey(case_id, T1, administration="repeat", interviewed_on="2027-03-02"),
        survey(case_id, {**T3, "Q1": "splendid"}),
        survey(other, T3),
        survey(case_id, T3, interviewed_on="2026-12-02"),
    ]
    response = await client.post("/v1/surveys/batches", json={"items": items}, headers=office(token))
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["accepted"], result["refused"]) == (2, 2)
    assert [(i["index"], i["status"]) for i in result["items"]] == [(0, 201), (1, 422), (2, 404), (3, 201)]
    assert result["items"][1]["problem"]["errors"] == [
        {"pointer": "#/answers/Q1", "detail": "not an option of this question: splendid"}
    ]
    assert result["items"][2]["problem"]["code"] == "case-not-found"
    history = (await client.get("/v1/surveys", params={"case_id": str(case_id)}, headers=office(token))).json()
    # The baseline interviewed first is scored first, so the later repeat carries the change from it.
    assert [s["interviewed_on"] for s in history["items"]] == ["2026-12-02", "2027-03-02"]
    assert history["items"][1]["score"]["change"]["composite"] == pytest.approx(1 - 0.4546875)
    assert await rows(test_db_url, Survey, other) == 0


async def test_the_chart_draws_each_dimension_over_the_administrations(
    client: httpx.AsyncClient, token: TokenFor, open_case: OpenCase
) -> None:
    case_id = await open_case()
    for answers, administration in [(T3, "baseline"), (T1, "repeat")]:
        await client.post(
            "/v1/surveys", json=survey(case_id, answers, administration=administration), headers=office(token)
        )
    response = await client.get("/v1/surveys/charts", params={"case_id": str(case_id)}, headers=office(token))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/svg+xml"
    svg = response.text
    assert svg.lstrip().startswith("<?xml")
    for label in ("economic", "social", "psychosocial", "composite", "baseline 2026-12-01", "repeat 2026-12-01"):
        assert label in svg
    erbil = await client.get(
        "/v1/surveys/charts", params={"case_id": str(case_id)}, headers=office(token, "iq-erbil-system")
    )
    assert (erbil.status_code, erbil.json()["code"]) == (404, "case-not-found")


INTEGRATION_DOMAINS = [
    "work",
    "housing",
    "education",
    "health_and_social_care",
    "leisure",
    "social_bonds",
    "social_bridges",
    "social_links",
    "language_and_communication",
    "culture",
    "digital_skills",
    "safety",
    "stability",
    "rights_and_responsibilities",
]


async def test_programme_indicators_suppress_small_cells_in_json_and_csv(
    client: httpx.AsyncClient, token: TokenFor, open_case: OpenCase
) -> None:
    day = "2031-01-15"  # a period no other test writes to
    # two small cells, so that neither needs a secondary suppression of Berlin's
    for office_id, count in [("de-berlin", 7), ("sn-dakar", 2), ("iq-erbil", 2)]:
        client_id = f"{office_id}-system"
        for n in range(count):
            case_id = await open_case(office=office_id, programme=Programme.RESETTLEMENT_INTEGRATION)
            answers = dict.fromkeys(INTEGRATION_DOMAINS, "good" if n else "poor")
            posted = await client.post(
                "/v1/surveys",
                json=survey(
                    case_id,
                    answers,
                    instrument="integration",
                    instrument_version="integration-default-v0",
                    interviewed_on=day,
                ),
                headers=office(token, client_id),
            )
            assert posted.status_code == 201, posted.text
    params = {
        "instrument": "integration",
        "group_by": ["office", "period"],
        "interviewed_from": "2031-01-01",
        "interviewed_to": "2031-03-31",
    }
    aggregates = bearer(token("de-berlin-system", "scoring-api", "aggregates:read"))
    response = await client.get("/v1/indicators/scores", params=params, headers=aggregates)
    assert response.status_code == 200, response.text
    berlin, erbil, dakar = response.json()["cells"]
    assert (erbil["group"]["office"], erbil["suppressed"]) == ("iq-erbil", True)
    assert berlin["group"] == {"office": "de-berlin", "period": "2031-Q1"}
    # seven cases, one poor: every figure carries the cell's noise (counts ±2, means ±0.5/7, shares a count ±2
    # over a count ±2)
    noise = 0.5 / 7 + 5e-4

    def shares(count: int) -> set[float]:
        return {round(min(n, max(0, c)) / n, 3) for c in range(count - 2, count + 3) for n in range(5, 10)}

    assert (abs(berlin["administrations"] - 7) <= 2, berlin["suppressed"]) == (True, False)
    assert berlin["share_target_reached"] in shares(6)
    assert berlin["mean_composite"] == pytest.approx((6 * 0.75 + 0.25) / 7, abs=noise)
    bands = berlin["share_by_band"]["social_connections"]
    assert list(bands) == ["intensified", "standard", "hands_off"]  # every band, zeros included
    found = (bands["intensified"] in shares(1), bands["standard"] in shares(0), bands["hands_off"] in shares(6))
    assert found == (True, True, True)
    assert dakar == {
        "group": {"office": "sn-dakar", "period": "2031-Q1"},
        "suppressed": True,
        "administrations": None,
        "discarded": None,
        "share_target_reached": None,
        "mean_composite": None,
        "mean_by_dimension": {},
        "share_by_band": {},
        "share_low_accuracy": None,
    }
    csv_response = await client.get("/v1/indicators/scores.csv", params=params, headers=aggregates)
    assert csv_response.headers["content-type"].startswith("text/csv")
    header, berlin_row, _, dakar_row = csv_response.text.splitlines()
    assert header.startswith("office,period,suppressed,administrations,discarded,share_target_reached")
    assert "share_social_connections_standard" in header.split(",")  # the instrument's bands, not the cells'
    figures = [berlin[c] for c in ("administrations", "discarded", "share_target_reached")]
    assert berlin_row.startswith("de-berlin,2031-Q1,false," + ",".join(map(str, figures)) + ",")
    assert dakar_row.startswith("sn-dakar,2031-Q1,true,,,")
    stricter = await client.get("/v1/indicators/scores", params={**params, "minimum_count": 10}, headers=aggregates)
    assert [c["suppressed"] for c in stricter.json()["cells"]] == [True, True, True]
    no_scope = await client.get("/v1/indicators/scores", params=params, headers=office(token))
    assert no_scope.status_code == 403


async def test_a_domv_screening_is_scored_as_a_vulnerability_index_with_red_flag_override(
    client: httpx.AsyncClient, token: TokenFor, open_case: OpenCase, test_db_url: str
) -> None:
    case_id = await open_case()
    answers = {
        "individual_status_in_society": "risk_3",
        "individual_histories_experiences": "risk_3",
        "individual_literacy_education": "protective_2",
        "household_size_structure": "risk_1",
        "household_socioeconomic_status": "protective_3",
        "red_flag_uasc": "yes",
    }
    response = await client.post(
        "/v1/surveys",
        json=survey(
            case_id, answers, instrument="domv", instrument_version="domv-screening-v0", administration="ad_hoc"
        ),
        headers=office(token),
    )
    assert response.status_code == 201, response.text
    score = response.json()["score"]
    assert score["composite"] == pytest.approx((0.35 * 0.5 + 0.25 * -0.5) / 0.6)
    assert (score["composite_band"], score["red_flags"]) == ("high", ["red_flag_uasc"])
    assert (score["vulnerability_index"], score["vulnerability_band"]) == (score["composite"], "high")
    crossed = [e["data"] for e in await events_of(test_db_url, case_id) if e["type"].endswith("threshold_crossed.v1")]
    assert [(c["scope"], c["band"]) for c in crossed] == [("individual", "high"), ("composite", "high")]


async def test_a_batch_of_one_case_s_administrations_ends_as_the_same_submissions_one_by_one(
    client: httpx.AsyncClient, token: TokenFor, open_case: OpenCase, test_db_url: str
) -> None:
    """A batch reads each case once, then follows its own additions: schedules, scores and events come out as
    if every item had been submitted on its own, in interview order."""
    batched, single = await open_case(), await open_case()
    plan = [
        (T3, "baseline", "2026-12-02"),
        (T1, "repeat", "2027-03-02"),
        (T2, "repeat", "2027-06-02"),
    ]
    response = await client.post(
        "/v1/surveys/batches",
        json={"items": [survey(batched, a, administration=k, interviewed_on=d) for a, k, d in reversed(plan)]},
        headers=office(token),
    )
    assert (response.status_code, response.json()["accepted"]) == (200, 3), response.text
    for answers, kind, on in plan:
        one = await client.post(
            "/v1/surveys", json=survey(single, answers, administration=kind, interviewed_on=on), headers=office(token)
        )
        assert one.status_code == 201, one.text

    async def outcome(case_id: uuid.UUID) -> tuple[object, ...]:
        schedules = (
            await client.get("/v1/surveys/schedules", params={"case_id": str(case_id)}, headers=office(token))
        ).json()
        history = (await client.get("/v1/surveys", params={"case_id": str(case_id)}, headers=office(token))).json()
        events = [
            (e["type"], e["data"].get("scope"), e["data"].get("band")) for e in await events_of(test_db_url, case_id)
        ]
        return (
            sorted((s["administration"], s["status"], s["due_on"]) for s in schedules),
            [(s["administration"], s["score"]["composite"], s["score"]["change"]) for s in history["items"]],
            sorted(events, key=str),
        )

    assert await outcome(batched) == await outcome(single)


async def test_indicators_disaggregate_by_the_latest_vulnerability_screening_and_cohort_with_suppression(
    client: httpx.AsyncClient, token: TokenFor, open_case: OpenCase
) -> None:
    day = "2032-02-10"  # a period no other test writes to
    screening = {"individual_status_in_society": "risk_3", "red_flag_uasc": "yes"}
    for n in range(7):
        case_id = await open_case(programme=Programme.RESETTLEMENT_INTEGRATION)
        if n < 5:
            screened = await client.post(
                "/v1/surveys",
                json=survey(
                    case_id,
                    screening,
                    instrument="domv",
                    instrument_version="domv-screening-v0",
                    administration="ad_hoc",
                ),
                headers=office(token),
            )
            assert screened.status_code == 201, screened.text
        posted = await client.post(
            "/v1/surveys",
            json=survey(
                case_id,
                dict.fromkeys(INTEGRATION_DOMAINS, "good"),
                instrument="integration",
                instrument_version="integration-default-v0",
                interviewed_on=day,
            ),
            headers=office(token),
        )
        assert posted.status_code == 201, posted.text
    params = {
        "instrument": "integration",
        "group_by": ["vulnerability", "cohort"],
        "interviewed_from": "2032-01-01",
        "interviewed_to": "2032-03-31",
    }
    aggregates = bearer(token("de-berlin-system", "scoring-api", "aggregates:read"))
    response = await client.get("/v1/indicators/scores", params=params, headers=aggregates)
    assert response.status_code == 200, response.text
    cells = [(c["group"]["vulnerability"], c["suppressed"], c["administrations"]) for c in response.json()["cells"]]
    # the lone small cell would be the total minus the other: both are suppressed (secondary suppression)
    assert cells == [("high", True, None), ("not_screened", True, None)]
    assert {c["group"]["cohort"] for c in response.json()["cells"]} == {quarter(datetime.now(UTC).date())}

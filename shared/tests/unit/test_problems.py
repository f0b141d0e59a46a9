"""Every error leaves as RFC 9457 problem+json with a stable code; a 500 reveals nothing."""

from typing import Annotated

import httpx
import pytest
from fastapi import FastAPI, Query
from pydantic import BaseModel, ConfigDict, Field

from casebridge_common.problems import NotFound, install_problem_handlers


class ThingNotFound(NotFound):
    code, title = "thing-not-found", "Thing not found"


class NewThing(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    size: int = Field(ge=0)


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/things/{thing_id}")
    async def get_thing(thing_id: int) -> dict[str, int]:
        raise ThingNotFound(thing_id=thing_id)

    @app.post("/things")
    async def create_thing(body: NewThing, limit: Annotated[int, Query(le=10)] = 5) -> dict[str, str]:
        return {"name": body.name}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret database password is hunter2")

    return app


@pytest.fixture
async def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(_app(), raise_app_exceptions=False), base_url="http://t")


async def test_domain_error_is_problem_json_with_code_and_context(client: httpx.AsyncClient) -> None:
    response = await client.get("/things/7")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "https://casebridge.example/problems/thing-not-found"
    assert (body["code"], body["title"], body["status"], body["instance"]) == (
        "thing-not-found",
        "Thing not found",
        404,
        "/things/7",
    )
    assert body["thing_id"] == 7


async def test_validation_error_names_every_offending_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/things?limit=99", json={"name": "", "size": -1, "colour": "red"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation-error"
    where = {e.get("pointer") or e.get("parameter") for e in body["errors"]}
    assert where == {"#/name", "#/size", "#/colour", "limit"}


async def test_unexpected_error_is_500_without_details(client: httpx.AsyncClient) -> None:
    response = await client.get("/boom")
    assert response.status_code == 500
    assert response.json()["code"] == "internal-error"
    assert "hunter2" not in response.text


async def test_unknown_route_is_problem_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/nowhere")
    assert response.status_code == 404
    assert response.json()["code"] == "route-not-found"

"""Idempotency-Key: a retry replays; the same key on another body or another target is refused."""

import uuid

import pytest
from mechanism_probes import TestUnitOfWork
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casebridge_common.auth import Principal
from casebridge_common.http import REQUEST_TARGET, IdempotencyKeyReused

WHO = Principal(
    subject="de-berlin-system",
    client_id="de-berlin-system",
    organisation_id="iom-germany",
    office_id="de-berlin",
    country="DE",
    scopes=frozenset(),
    roles=frozenset(),
)


class Note(BaseModel):
    text: str


async def _first_answer(sessions: async_sessionmaker[AsyncSession], key: str, target: str) -> None:
    REQUEST_TARGET.set(target)
    async with TestUnitOfWork(sessions) as uow:
        assert await uow.idempotency.replay(key, WHO, Note(text="hello")) is None
        await uow.idempotency.remember(status=201, body=Note(text="stored"))
        await uow.commit()


async def test_a_retry_of_the_same_request_replays_the_first_answer(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    key = f"k-{uuid.uuid4()}"
    await _first_answer(sessions, key, "POST /v1/cases/1/notes")
    async with TestUnitOfWork(sessions) as uow:
        replay = await uow.idempotency.replay(key, WHO, Note(text="hello"))
    assert replay is not None
    assert (replay.status_code, replay.body, replay.headers["idempotent-replayed"]) == (
        201,
        b'{"text":"stored"}',
        "true",
    )


@pytest.mark.parametrize(("target", "body"), [("POST /v1/cases/1/notes", "other"), ("POST /v1/cases/2/notes", "hello")])
async def test_the_same_key_on_another_body_or_target_is_refused(
    sessions: async_sessionmaker[AsyncSession], target: str, body: str
) -> None:
    key = f"k-{uuid.uuid4()}"
    await _first_answer(sessions, key, "POST /v1/cases/1/notes")
    REQUEST_TARGET.set(target)
    async with TestUnitOfWork(sessions) as uow:
        with pytest.raises(IdempotencyKeyReused):
            await uow.idempotency.replay(key, WHO, Note(text=body))

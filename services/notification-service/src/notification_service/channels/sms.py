"""SMS behind a provider interface; one adapter: a JSON POST to the provider's URL with a bearer key."""

from typing import Protocol

import httpx


class SmsProvider(Protocol):
    async def send(self, to_number: str, text: str) -> str | None:
        """None when the provider accepted the message; otherwise the reason, for a retry."""
        ...


class HttpSmsProvider:
    """`POST <url>` with `{"to": "+221…", "text": "…"}` and `Authorization: Bearer <key>`; any 2xx is accepted."""

    def __init__(self, client: httpx.AsyncClient, *, url: str, api_key: str | None) -> None:
        self._client, self._url = client, url
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}

    async def send(self, to_number: str, text: str) -> str | None:
        try:
            response = await self._client.post(self._url, json={"to": to_number, "text": text}, headers=self._headers)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"[:500]
        if response.is_success:
            return None
        return f"HTTP {response.status_code}: {response.text[:200]}"

"""The App's webhook deliveries as GitHub saw them, and asking GitHub to deliver one again.

GitHub never redelivers by itself: a delivery it could not make (we were down, a network
fault, a 5xx) is lost unless someone asks. These are App-level calls, made with the App's
JWT (no installation): ``GET /app/hook/deliveries`` lists the newest first, paged with a
cursor in the ``Link`` header; ``POST /app/hook/deliveries/{id}/attempts`` redelivers one.
"""

from __future__ import annotations

from datetime import datetime

from app.github.http import API_HEADERS, PER_PAGE, GitHubHttp
from app.github.payloads import Lenient

# Pages read per listing at most (100 deliveries each): the listing is bounded whatever the
# traffic; past 2,000 deliveries in the window the older ones are not looked at.
MAX_PAGES = 20


class HookDelivery(Lenient):
    """One delivery attempt; a redelivery carries the ``guid`` (X-GitHub-Delivery) again."""

    id: int
    guid: str
    delivered_at: datetime
    redelivery: bool = False
    status: str = ""
    status_code: int = 0
    event: str = ""
    action: str | None = None

    @property
    def delivered(self) -> bool:
        return 200 <= self.status_code < 300


class HookDeliveries:
    def __init__(self, http: GitHubHttp) -> None:
        self._http = http

    async def hook_deliveries(self, *, since: datetime) -> list[HookDelivery]:
        """The deliveries made since ``since``, newest first (at most ``MAX_PAGES`` pages)."""
        found: list[HookDelivery] = []
        url: str | None = f"app/hook/deliveries?per_page={PER_PAGE}"
        for _ in range(MAX_PAGES):
            if url is None:
                break
            page, url = await self._http.get(
                None, url, lambda body: [HookDelivery.model_validate(item) for item in body]
            )
            found.extend(d for d in page if d.delivered_at >= since)
            if not page or page[-1].delivered_at < since:
                break
        return found

    async def redeliver(self, delivery_id: int) -> None:
        """Ask GitHub to deliver ``delivery_id`` again (202: it is on its way)."""
        await self._http.send(
            None,
            lambda gh: gh.arequest(
                "POST", f"/app/hook/deliveries/{delivery_id}/attempts", headers=API_HEADERS
            ),
            creates=True,
        )

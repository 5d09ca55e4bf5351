"""A small client for the store's JSON API (standard library only).

Used by the example suite's API steps and handy in a shell::

    api = StoreClient("http://127.0.0.1:8181")
    api.product("SWE-BLA-M-001")                   # -> dict (raises ApiError on 4xx/5xx)
    answer = api.post("/api/returns", {...})       # -> ApiResponse(status, data)
    answer.ok, answer.status, answer.message, answer["summary"]

``post``/``put`` return an ``ApiResponse`` for every status (a refusal is an answer a scenario
wants to look at, not an exception); ``get`` raises ``ApiError`` on 4xx/5xx unless
``check=False``.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any


class ApiError(AssertionError):
    """The store answered with an error status where success was expected."""


@dataclass(frozen=True)
class ApiResponse:
    status: int
    data: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def message(self) -> str:
        return self.data.get("message", "") if isinstance(self.data, dict) else ""

    def __getitem__(self, key: str) -> Any:
        return self.data[key]


class StoreClient:
    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def request(
        self, method: str, path: str, payload: Any = None, *, check: bool = False
    ) -> ApiResponse:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            self.base_url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as reply:
                answer = ApiResponse(reply.status, _decode(reply.read()))
        except urllib.error.HTTPError as error:
            answer = ApiResponse(error.code, _decode(error.read()))
        if check and not answer.ok:
            raise ApiError(f"{method} {path} answered {answer.status}: {answer.data}")
        return answer

    def get(self, path: str, *, check: bool = True) -> ApiResponse:
        return self.request("GET", path, check=check)

    def post(self, path: str, payload: Any = None, *, check: bool = False) -> ApiResponse:
        return self.request("POST", path, {} if payload is None else payload, check=check)

    def put(self, path: str, payload: Any, *, check: bool = False) -> ApiResponse:
        return self.request("PUT", path, payload, check=check)

    # -- conveniences the suite uses a lot ----------------------------------------------------

    def product(self, sku: str) -> dict[str, Any]:
        return self.get(f"/api/products/{sku}").data

    def order(self, order_id: int) -> dict[str, Any]:
        return self.get(f"/api/orders/{order_id}").data

    def stock_report(self, *, timeout: float = 30.0, poll: float = 0.25) -> dict[str, Any]:
        """Start the (slow) stock report and wait for it."""
        job = self.post("/api/reports/stock", check=True).data
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.get(job["url"]).data
            if state["status"] == "done":
                return state["report"]
            if state["status"] == "failed":
                raise ApiError(f"the stock report failed: {state.get('error')}")
            time.sleep(poll)
        raise ApiError(f"the stock report was not ready after {timeout:.0f}s")


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")

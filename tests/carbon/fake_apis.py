"""A local HTTP server speaking the Electricity Maps v3 and WattTime v3 JSON.

Electricity Maps: ``GET /v3/carbon-intensity/past-range?zone&start&end`` →
``{"zone", "data": [{"zone", "carbonIntensity", "datetime", ...}]}`` and
``GET /v3/carbon-intensity/history?zone`` → ``{"zone", "history": [...]}``, both
authenticated with the ``auth-token`` header.

WattTime: ``GET /login`` (HTTP basic auth) → ``{"token"}``; ``GET /v3/historical``
``?region&start&end&signal_type`` with ``Authorization: Bearer`` →
``{"data": [{"point_time", "value"}], "meta": {"units": "lbs_co2_per_mwh", ...}}``.

``mode`` selects a behaviour: ok, 500, slow, badjson, missing, 401.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

EM_KEY = "em-secret"
WT_USER, WT_PASSWORD = "alice", "s3cret"


def em_value(t: float) -> float:
    """The fake grid: 100 g/kWh plus 10 per hour of the day."""
    return 100.0 + 10.0 * int(t // 3600 % 24)


def wt_value_lbs(t: float) -> float:
    return 1000.0 + int(t // 300 % 12)  # changes every 5 minutes


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def parse(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@dataclass
class State:
    mode: str = "ok"
    slow_s: float = 1.0
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    valid_tokens: set[str] = field(default_factory=set)
    logins: int = 0
    now: float = 0.0  # the server's "now" for /history

    def paths(self) -> list[str]:
        return [urlsplit(p).path for p, _ in self.requests]


class Handler(BaseHTTPRequestHandler):
    state: State

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, code: int, body: Any) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:
        st = self.state
        st.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        url = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        if st.mode == "slow":
            time.sleep(st.slow_s)
        if st.mode == "500":
            return self._send(500, {"error": "boom"})
        if st.mode == "badjson":
            return self._send(200, b"{not json")
        if url.path.startswith("/v3/carbon-intensity/"):
            return self._em(url.path, q)
        if url.path == "/login":
            return self._login()
        if url.path == "/v3/historical":
            return self._wt(q)
        return self._send(404, {"error": "not found"})

    def _em(self, path: str, q: dict[str, str]) -> None:
        if self.headers.get("auth-token") != EM_KEY or self.state.mode == "401":
            return self._send(401, {"error": "invalid token"})
        zone = q["zone"]
        if path.endswith("/past-range"):
            start, end = parse(q["start"]), parse(q["end"])
            hours = range(int(start // 3600) * 3600, int(end), 3600)
            key = "data"
        elif path.endswith("/history"):
            last = int(self.state.now // 3600) * 3600
            hours = range(last - 23 * 3600, last + 1, 3600)
            key = "history"
        else:
            return self._send(404, {"error": "not found"})
        items: list[dict[str, Any]] = [
            {
                "zone": zone,
                "carbonIntensity": em_value(h),
                "datetime": iso(h),
                "updatedAt": iso(h),
                "createdAt": iso(h),
                "emissionFactorType": q.get("emissionFactorType", "lifecycle"),
                "isEstimated": False,
                "estimationMethod": None,
            }
            for h in hours
        ]
        if self.state.mode == "missing":
            for item in items:
                del item["carbonIntensity"]
        self._send(200, {"zone": zone, key: items})

    def _login(self) -> None:
        expected = base64.b64encode(f"{WT_USER}:{WT_PASSWORD}".encode()).decode()
        if self.headers.get("Authorization") != f"Basic {expected}":
            return self._send(403, {"error": "bad credentials"})
        self.state.logins += 1
        token = f"tok-{self.state.logins}"
        self.state.valid_tokens.add(token)
        self._send(200, {"token": token})

    def _wt(self, q: dict[str, str]) -> None:
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.state.valid_tokens:
            return self._send(401, {"error": "invalid token"})
        start, end = parse(q["start"]), parse(q["end"])
        points = range(int(start // 300) * 300, int(end) + 1, 300)  # inclusive end
        data = [
            {"point_time": iso(t).replace(".000Z", "+00:00"), "value": wt_value_lbs(t)}
            for t in points
        ]
        if self.state.mode == "missing":
            data = [{"point_time": d["point_time"]} for d in data]
        meta = {
            "region": q["region"],
            "signal_type": q["signal_type"],
            "model": {"date": "2024-01-01"},
            "units": "lbs_co2_per_mwh",
            "generated_at_period_seconds": 300,
            "data_point_period_seconds": 300,
            "warnings": [],
        }
        self._send(200, {"data": data, "meta": meta})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that gave up (the timeout tests) is expected: no traceback on stderr."""


class FakeApis:
    def __init__(self) -> None:
        self.state = State()
        handler = type("BoundHandler", (Handler,), {"state": self.state})
        self.server = _Server(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeApis:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

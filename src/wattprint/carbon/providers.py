"""Time-resolved grid carbon intensity.

A provider returns a *step function*: a list of ``(unix time, gCO2e/kWh)`` sorted by
time, each value holding from its time until the next point's (the last one holds to
the end of the requested span). The first point is at or before ``start``.

- ``YearlyProvider``: a constant series from a yearly ``Intensity``.
- ``CsvSeriesProvider``: a time series file (Electricity Maps export or a plain
  ``timestamp,g_per_kwh`` file).
- ``ElectricityMapsClient`` and ``WattTimeClient``: live APIs through ``urllib`` with
  an on-disk JSON cache keyed by (provider, zone, hour), timeouts and exponential
  backoff. On any failure they fall back to the yearly figure with one logged
  warning and say so in ``describe()``; they never raise into the caller.
"""

from __future__ import annotations

import bisect
import csv
import itertools
import json
import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from wattprint.carbon.intensity import Intensity
from wattprint.errors import ConfigError

logger = logging.getLogger("wattprint.carbon")

HOUR_S = 3600
LBS_PER_MWH_TO_G_PER_KWH = 0.45359237  # 453.59237 g per lb / 1000 kWh per MWh


@runtime_checkable
class IntensityProvider(Protocol):
    """Anything that gives a grid intensity step function over a time span."""

    def series(self, start: float, end: float) -> list[tuple[float, float]]:
        """``(unix time, g/kWh)`` points covering ``[start, end]`` (a step function)."""
        ...

    def describe(self) -> str:
        """One line: where the figures come from (and any fallback taken)."""
        ...


def provider_warnings(provider: object) -> tuple[str, ...]:
    """The warnings a provider collected so far (empty for providers without any)."""
    warnings = getattr(provider, "warnings", ())
    return tuple(str(w) for w in warnings) if isinstance(warnings, (tuple, list)) else ()


class StepFunction:
    """A step function of time, for time-weighted means over intervals.

    The mean over ``[a, b]`` sums the steps that overlap the interval, each weighted by
    its overlap: no prefix integrals, whose differences lose precision for short
    intervals at Unix-time offsets.
    """

    def __init__(self, points: Sequence[tuple[float, float]]) -> None:
        if not points:
            raise ValueError("an intensity series needs at least one point")
        pts = sorted(points, key=lambda p: p[0])
        self.times = [float(t) for t, _ in pts]
        self.values = [float(v) for _, v in pts]

    def value_at(self, t: float) -> float:
        """The value in force at ``t`` (the first value before the first point)."""
        i = max(bisect.bisect_right(self.times, t) - 1, 0)
        return self.values[i]

    def mean(self, a: float, b: float) -> float:
        """Time-weighted mean over ``[a, b]``; the value at ``a`` when ``b <= a``."""
        if b <= a:
            return self.value_at(a)
        i = max(bisect.bisect_right(self.times, a) - 1, 0)
        if i + 1 >= len(self.times) or self.times[i + 1] >= b:
            return self.values[i]  # one step covers the whole interval
        total, start = 0.0, a
        while start < b:
            end = self.times[i + 1] if i + 1 < len(self.times) else b
            end = min(end, b)
            total += self.values[i] * (end - start)
            start, i = end, i + 1
        return total / (b - a)


def _describe_yearly(intensity: Intensity) -> str:
    year = f", {intensity.year}" if intensity.year is not None else ""
    return (
        f"yearly average {intensity.g_per_kwh:g} gCO2e/kWh for {intensity.location.name} "
        f"({intensity.source}{year})"
    )


class YearlyProvider:
    """A constant series: the yearly figure of an ``Intensity``."""

    def __init__(self, intensity: Intensity) -> None:
        self.intensity = intensity
        self.warnings: tuple[str, ...] = (intensity.warning,) if intensity.warning else ()

    def series(self, start: float, end: float) -> list[tuple[float, float]]:
        return [(float(start), self.intensity.g_per_kwh)]

    def describe(self) -> str:
        return _describe_yearly(self.intensity)


# ------------------------------------------------------------------ CSV series


def _norm_header(name: str) -> str:
    return " ".join(name.replace("\ufeff", "").replace("₂", "2").strip().lower().split())


_TIME_COLUMNS = ("datetime (utc)", "timestamp", "datetime", "time", "date")
_LCA_COLUMNS = (
    "carbon intensity gco2eq/kwh (lca)",
    "carbon intensity gco2eq/kwh (life cycle)",
)
_DIRECT_COLUMNS = ("carbon intensity gco2eq/kwh (direct)",)
_PLAIN_COLUMNS = ("g_per_kwh", "intensity_g_per_kwh", "carbon_intensity_g_per_kwh", "gco2e_per_kwh")


def parse_timestamp(text: str) -> float:
    """Unix seconds from a unix number or an ISO 8601 string (naive means UTC)."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class CsvSeriesProvider:
    """Grid intensity from a CSV file with a timestamp column and a gCO2e/kWh column.

    Accepted headers: Electricity Maps exports (``Datetime (UTC)`` with
    ``Carbon Intensity gCO₂eq/kWh (LCA)`` and/or ``(direct)``; life-cycle is preferred
    unless ``column`` names another) and a plain ``timestamp,g_per_kwh``. Timestamps
    are ISO 8601 (naive = UTC) or unix seconds. Any problem raises ``ConfigError``
    naming the file, the line and the columns found.
    """

    def __init__(self, path: str | os.PathLike[str], *, column: str | None = None) -> None:
        self.path = Path(path)
        self.warnings: list[str] = []
        self._warned: set[str] = set()
        self.column, self._times, self._values = self._load(column)

    def _error(
        self, message: str, line: int | None = None, columns: Sequence[str] = ()
    ) -> ConfigError:
        where = f"{self.path}" + (f", line {line}" if line is not None else "")
        found = f"; columns found: {', '.join(repr(c) for c in columns)}" if columns else ""
        return ConfigError(f"{where}: {message}{found}")

    def _load(self, column: str | None) -> tuple[str, list[float], list[float]]:
        try:
            text = self.path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise self._error(f"cannot read the intensity file ({exc.strerror or exc})") from None
        except UnicodeDecodeError:
            raise self._error("not a UTF-8 text file") from None
        reader = csv.reader(text.splitlines())
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            raise self._error("empty file: expected a header row", line=1)
        norm = [_norm_header(h) for h in header]
        t_col = next((norm.index(c) for c in _TIME_COLUMNS if c in norm), None)
        if t_col is None:
            raise self._error(
                "no timestamp column (accepted: 'Datetime (UTC)', 'timestamp')", 1, header
            )
        if column is not None:
            wanted = _norm_header(column)
            if wanted not in norm:
                raise self._error(f"no column {column!r}", 1, header)
            v_col = norm.index(wanted)
        else:
            found = next(
                (
                    norm.index(c)
                    for c in (*_LCA_COLUMNS, *_PLAIN_COLUMNS, *_DIRECT_COLUMNS)
                    if c in norm
                ),
                None,
            )
            if found is None:
                raise self._error(
                    "no gCO2e/kWh column (accepted: 'Carbon Intensity gCO₂eq/kWh (LCA)' or "
                    "'(direct)', 'g_per_kwh')",
                    1,
                    header,
                )
            v_col = found
        points: dict[float, float] = {}
        skipped = 0
        for line_no, row in enumerate(reader, start=2):
            if not row or not any(cell.strip() for cell in row):
                continue
            if len(row) <= max(t_col, v_col):
                raise self._error(f"{len(row)} cells, expected {len(header)}", line_no, header)
            raw_t, raw_v = row[t_col].strip(), row[v_col].strip()
            try:
                t = parse_timestamp(raw_t)
            except ValueError:
                raise self._error(
                    f"timestamp {raw_t!r} is neither ISO 8601 nor unix seconds", line_no, header
                ) from None
            if raw_v == "":
                skipped += 1
                continue
            try:
                v = float(raw_v)
            except ValueError:
                raise self._error(f"intensity {raw_v!r} is not a number", line_no, header) from None
            if not math.isfinite(v) or v < 0:
                raise self._error(
                    f"intensity {raw_v!r} is not a finite number ≥ 0", line_no, header
                )
            if t in points:
                raise self._error(f"duplicate timestamp {raw_t!r}", line_no, header)
            points[t] = v
        if not points:
            raise self._error("no data rows", columns=header)
        if skipped:
            self.warnings.append(
                f"{self.path.name}: {skipped} rows without an intensity were skipped"
            )
        times = sorted(points)
        return header[v_col].strip(), times, [points[t] for t in times]

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self.warnings.append(message)
            logger.warning(message)

    def series(self, start: float, end: float) -> list[tuple[float, float]]:
        times, values = self._times, self._values
        i = bisect.bisect_right(times, start) - 1
        if i < 0:
            self._warn_once(
                "before",
                f"{self.path.name} starts at {_iso(times[0])}, after {_iso(start)}: its first "
                "value is used before that",
            )
            i = 0
        step = min((b - a for a, b in itertools.pairwise(times)), default=HOUR_S)
        if end > times[-1] + max(step, HOUR_S):
            self._warn_once(
                "after",
                f"{self.path.name} ends at {_iso(times[-1])}, before {_iso(end)}: its last "
                "value is held to the end",
            )
        out = [(float(start), values[i])]
        j = i + 1
        while j < len(times) and times[j] < end:
            out.append((times[j], values[j]))
            j += 1
        return out

    def describe(self) -> str:
        return (
            f"time series from {self.path.name} (column {self.column!r}, {len(self._times)} points)"
        )


# ------------------------------------------------------------------ live clients


class _Fatal(Exception):
    """A failure that retrying will not fix (4xx, bad JSON, missing fields)."""


class _Unauthorized(_Fatal):
    """HTTP 401/403."""


def _default_cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("wattprint", appauthor=False)) / "intensity"


class _LiveClient:
    """Cache, retries and fallback shared by the live API clients."""

    provider_key = "live"
    chunk_s = 10 * 24 * HOUR_S

    def __init__(
        self,
        zone: str,
        *,
        fallback: Intensity,
        base_url: str,
        cache_dir: str | os.PathLike[str] | None,
        timeout_s: float,
        retries: int,
        backoff_s: float,
        retry_after_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not zone or not zone.strip():
            raise ConfigError(f"{type(self).__name__}: zone {zone!r} is empty; accepted: a zone id")
        if timeout_s <= 0 or not math.isfinite(timeout_s):
            raise ConfigError(f"timeout_s {timeout_s!r} must be a positive number of seconds")
        if retries < 0:
            raise ConfigError(f"retries {retries!r} must be 0 or more")
        self.zone = zone.strip()
        self.fallback = fallback
        self.base_url = base_url.rstrip("/")
        self.cache_dir = Path(cache_dir) if cache_dir is not None else _default_cache_dir()
        self.timeout_s = float(timeout_s)
        self.retries = int(retries)
        self.backoff_s = float(backoff_s)
        self.retry_after_s = float(retry_after_s)
        self._clock = clock
        self.warnings: list[str] = []
        self.failure: str | None = None
        self._failed_at: float | None = None
        self._missing_hours = 0
        self._memory: dict[int, list[tuple[float, float]]] | None = None
        self.requests_made = 0

    # -- subclass hooks
    def _fetch(self, start: float, end: float) -> list[tuple[float, float]]:
        raise NotImplementedError

    def _label(self) -> str:
        raise NotImplementedError

    # -- HTTP
    def _get_json(self, url: str, headers: dict[str, str]) -> Any:
        import socket
        import urllib.error
        import urllib.request

        last = "no attempt"
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            request = urllib.request.Request(url, headers={"Accept": "application/json", **headers})
            self.requests_made += 1
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    body = response.read()
            except urllib.error.HTTPError as exc:
                exc.close()
                if exc.code in (401, 403):
                    raise _Unauthorized(f"HTTP {exc.code} (authentication refused)") from None
                if exc.code == 429 or exc.code >= 500:
                    last = f"HTTP {exc.code}"
                    continue
                raise _Fatal(f"HTTP {exc.code}") from None
            except OSError as exc:  # URLError, timeouts, refused or reset connections
                reason = getattr(exc, "reason", exc)
                last = (
                    "timed out"
                    if isinstance(reason, (TimeoutError, socket.timeout))
                    else str(reason)
                )
                continue
            try:
                return json.loads(body)
            except ValueError:
                raise _Fatal("response is not valid JSON") from None
        raise _Fatal(f"{last} after {self.retries + 1} attempts")

    # -- cache
    def _cache_path(self) -> Path:
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in self.zone)
        return self.cache_dir / f"{self.provider_key}-{safe}.json"

    def _load_cache(self) -> dict[int, list[tuple[float, float]]]:
        if self._memory is not None:
            return self._memory
        table: dict[int, list[tuple[float, float]]] = {}
        try:
            raw = json.loads(self._cache_path().read_text(encoding="utf-8"))
            for hour, pts in raw.get("hours", {}).items():
                table[int(hour)] = [(float(t), float(v)) for t, v in pts]
        except FileNotFoundError:
            pass
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            logger.debug("ignoring unreadable intensity cache %s: %s", self._cache_path(), exc)
            table = {}
        self._memory = table
        return table

    def _save_cache(self, table: dict[int, list[tuple[float, float]]]) -> None:
        payload = {
            "provider": self.provider_key,
            "zone": self.zone,
            "hours": {str(h): [[t, v] for t, v in pts] for h, pts in sorted(table.items())},
        }
        import tempfile

        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.cache_dir, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(payload, fh)
            os.replace(tmp, self._cache_path())
        except OSError as exc:
            logger.debug("could not write intensity cache %s: %s", self._cache_path(), exc)

    # -- failure handling
    def _fail(self, reason: str) -> None:
        self._failed_at = self._clock()
        if self.failure is None:
            self.failure = reason
            message = (
                f"{self._label()} unavailable ({reason}): using the yearly figure "
                f"{self.fallback.g_per_kwh:g} gCO2e/kWh for {self.fallback.location.name} instead"
            )
            self.warnings.append(message)
            logger.warning(message)

    def _cooling_down(self) -> bool:
        return self._failed_at is not None and self._clock() - self._failed_at < self.retry_after_s

    def _fallback_series(self, start: float) -> list[tuple[float, float]]:
        return [(float(start), self.fallback.g_per_kwh)]

    # -- public
    def series(self, start: float, end: float) -> list[tuple[float, float]]:
        try:
            return self._series(float(start), float(end))
        except Exception as exc:  # never raise into the caller
            self._fail(str(exc) or type(exc).__name__)
            return self._fallback_series(start)

    def _series(self, start: float, end: float) -> list[tuple[float, float]]:
        first = math.floor(start / HOUR_S) * HOUR_S
        hours = list(range(first, int(max(end, start)) + 1, HOUR_S)) or [first]
        if hours[-1] >= end and len(hours) > 1:
            hours.pop()  # an hour starting exactly at ``end`` is not needed
        table = self._load_cache()
        missing = [h for h in hours if h not in table]
        now = self._clock()
        fetchable = [h for h in missing if h < now]
        fresh: dict[int, list[tuple[float, float]]] = {}
        if fetchable and not self._cooling_down():
            try:
                fetched = self._fetch_range(fetchable[0], min(fetchable[-1] + HOUR_S, now))
            except _Fatal as exc:
                self._fail(str(exc))
                return self._fallback_series(start)
            for t, v in fetched:
                fresh.setdefault(int(t // HOUR_S) * HOUR_S, []).append((t, v))
            fresh = {h: sorted(dict(pts).items()) for h, pts in fresh.items()}
            # only hours already over are kept on disk; the current one may still change
            settled = {h: pts for h, pts in fresh.items() if h + HOUR_S <= now}
            if settled:
                table.update(settled)
                self._save_cache(table)
        elif fetchable and self.failure is not None:
            return self._fallback_series(start)
        points: list[tuple[float, float]] = []
        holes = 0
        for h in hours:
            pts = fresh.get(h) or table.get(h)
            if pts:
                points.extend(pts)
            else:
                holes += 1
                points.append((float(h), self.fallback.g_per_kwh))
        if holes:
            self._missing_hours += holes
            message = (
                f"{self._label()}: no data for {holes} of {len(hours)} hours; the yearly figure "
                f"{self.fallback.g_per_kwh:g} gCO2e/kWh was used for them"
            )
            if message not in self.warnings:
                self.warnings.append(message)
                logger.warning(message)
        points.sort()
        # keep the last point at or before start, then everything before end
        i = max(bisect.bisect_right([t for t, _ in points], start) - 1, 0)
        out = [(start, points[i][1])]
        out.extend(p for p in points[i + 1 :] if p[0] < end)
        return out

    def _fetch_range(self, start: float, end: float) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        a = start
        while a < end:
            b = min(a + self.chunk_s, end)
            out.extend(self._fetch(a, b))
            a = b
        return out

    def _describe_live(self) -> str:
        raise NotImplementedError

    def describe(self) -> str:
        if self.failure is not None:
            return (
                f"{self._label()} unavailable ({self.failure}); fallback: "
                f"{_describe_yearly(self.fallback)}"
            )
        text = self._describe_live()
        if self._missing_hours:
            text += f"; {self._missing_hours} hours without data used the yearly figure"
        return text


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


class ElectricityMapsClient(_LiveClient):
    """Electricity Maps API v3: hourly carbon intensity of a zone (gCO2e/kWh).

    Ranges within the last 24 hours use ``/v3/carbon-intensity/history`` (free tier);
    older ones ``/v3/carbon-intensity/past-range`` (``zone``, ``start``, ``end``; at
    most 10 days a request). Both are authenticated with the ``auth-token`` header.
    """

    provider_key = "electricitymaps"
    chunk_s = 10 * 24 * HOUR_S

    def __init__(
        self,
        zone: str,
        api_key: str,
        *,
        fallback: Intensity,
        base_url: str = "https://api.electricitymap.org",
        cache_dir: str | os.PathLike[str] | None = None,
        timeout_s: float = 5,
        retries: int = 3,
        emission_factor_type: str = "lifecycle",
        backoff_s: float = 0.5,
        retry_after_s: float = 300,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if emission_factor_type not in ("lifecycle", "direct"):
            raise ConfigError(
                f"emission_factor_type {emission_factor_type!r}: accepted: lifecycle, direct"
            )
        super().__init__(
            zone,
            fallback=fallback,
            base_url=base_url,
            cache_dir=cache_dir,
            timeout_s=timeout_s,
            retries=retries,
            backoff_s=backoff_s,
            retry_after_s=retry_after_s,
            clock=clock,
        )
        self.api_key = api_key
        self.emission_factor_type = emission_factor_type
        self.provider_key = f"electricitymaps-{emission_factor_type}"

    def _label(self) -> str:
        return f"Electricity Maps ({self.zone})"

    def _fetch(self, start: float, end: float) -> list[tuple[float, float]]:
        from urllib.parse import urlencode

        headers = {"auth-token": self.api_key}
        recent = start >= self._clock() - 23 * HOUR_S
        if recent:
            query = {"zone": self.zone, "emissionFactorType": self.emission_factor_type}
            url = f"{self.base_url}/v3/carbon-intensity/history?{urlencode(query)}"
            key = "history"
        else:
            query = {
                "zone": self.zone,
                "start": _iso(start),
                "end": _iso(end),
                "emissionFactorType": self.emission_factor_type,
            }
            url = f"{self.base_url}/v3/carbon-intensity/past-range?{urlencode(query)}"
            key = "data"
        payload = self._get_json(url, headers)
        if not isinstance(payload, dict) or not isinstance(payload.get(key), list):
            raise _Fatal(f"response has no {key!r} list")
        out: list[tuple[float, float]] = []
        for item in payload[key]:
            if not isinstance(item, dict) or not isinstance(item.get("datetime"), str):
                raise _Fatal("a data point has no 'datetime'")
            if "carbonIntensity" not in item:
                raise _Fatal("a data point has no 'carbonIntensity'")
            value = _number(item["carbonIntensity"])
            if value is None:
                continue  # null: no data for that hour
            try:
                t = parse_timestamp(item["datetime"])
            except ValueError:
                raise _Fatal(f"bad datetime {item['datetime']!r}") from None
            if start <= t < end or (recent and t < end):
                out.append((t, value))
        return out

    def _describe_live(self) -> str:
        kind = "life-cycle" if self.emission_factor_type == "lifecycle" else "direct"
        return (
            f"Electricity Maps hourly carbon intensity for zone {self.zone} "
            f"({kind}, consumption-based; ODbL data via the API)"
        )


class WattTimeClient(_LiveClient):
    """WattTime API v3: marginal operating emissions rate (MOER) of a grid region.

    Logs in at ``/login`` (HTTP basic auth → bearer token) unless a ``token`` is
    given, then reads ``/v3/historical`` (``region``, ``start``, ``end``,
    ``signal_type``; at most 30 days a request). MOER is reported in lbs CO2/MWh and
    converted to g/kWh (* 0.45359237). It is a *marginal* rate, not an average grid
    intensity: it answers "what did one more kWh emit", not "what was the mix".
    """

    provider_key = "watttime"
    chunk_s = 30 * 24 * HOUR_S

    def __init__(
        self,
        region: str,
        *,
        fallback: Intensity,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        base_url: str = "https://api.watttime.org",
        cache_dir: str | os.PathLike[str] | None = None,
        timeout_s: float = 5,
        retries: int = 3,
        signal_type: str = "co2_moer",
        backoff_s: float = 0.5,
        retry_after_s: float = 300,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not token and not (username and password):
            raise ConfigError(
                "WattTimeClient needs a token, or a username and a password for /login"
            )
        super().__init__(
            region,
            fallback=fallback,
            base_url=base_url,
            cache_dir=cache_dir,
            timeout_s=timeout_s,
            retries=retries,
            backoff_s=backoff_s,
            retry_after_s=retry_after_s,
            clock=clock,
        )
        self.username = username
        self.password = password
        self.token = token
        self._token_from_login = False
        self.signal_type = signal_type
        self.provider_key = f"watttime-{signal_type}"

    def _label(self) -> str:
        return f"WattTime ({self.zone})"

    def _login(self) -> str:
        import base64

        pair = f"{self.username}:{self.password}".encode()
        headers = {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
        payload = self._get_json(f"{self.base_url}/login", headers)
        token = payload.get("token") if isinstance(payload, dict) else None
        if not isinstance(token, str) or not token:
            raise _Fatal("login response has no 'token'")
        self.token = token
        self._token_from_login = True
        return token

    def _fetch(self, start: float, end: float) -> list[tuple[float, float]]:
        from urllib.parse import urlencode

        query = {
            "region": self.zone,
            "start": _iso(start),
            "end": _iso(end),
            "signal_type": self.signal_type,
        }
        url = f"{self.base_url}/v3/historical?{urlencode(query)}"
        token = self.token or self._login()
        try:
            payload = self._get_json(url, {"Authorization": f"Bearer {token}"})
        except _Unauthorized:
            if not (self.username and self.password):
                raise
            token = self._login()  # expired token: log in again, once
            payload = self._get_json(url, {"Authorization": f"Bearer {token}"})
        if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
            raise _Fatal("response has no 'data' list")
        meta = payload.get("meta")
        units = meta.get("units") if isinstance(meta, dict) else None
        if units in (None, "lbs_co2_per_mwh"):
            factor = LBS_PER_MWH_TO_G_PER_KWH
        elif units in ("g_co2_per_kwh", "kg_co2_per_mwh"):
            factor = 1.0
        else:
            raise _Fatal(f"unexpected units {units!r}")
        out: list[tuple[float, float]] = []
        for item in payload["data"]:
            if not isinstance(item, dict) or not isinstance(item.get("point_time"), str):
                raise _Fatal("a data point has no 'point_time'")
            if "value" not in item:
                raise _Fatal("a data point has no 'value'")
            value = _number(item["value"])
            if value is None:
                continue
            try:
                t = parse_timestamp(item["point_time"])
            except ValueError:
                raise _Fatal(f"bad point_time {item['point_time']!r}") from None
            if start <= t < end:
                out.append((t, value * factor))
        return out

    def _describe_live(self) -> str:
        return (
            f"WattTime {self.signal_type} for {self.zone}: marginal operating emissions rate "
            "(MOER), not an average grid intensity; lbs/MWh converted to g/kWh"
        )

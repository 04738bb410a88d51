"""RAPL energy counters through Linux powercap sysfs (Intel, and AMD since Linux 5.8).

Zones ``intel-rapl:N`` (or ``amd-rapl:N``) named ``package-N`` become components
``cpu:N``; their ``dram`` sub-zones become ``dram:N``. ``core``/``uncore`` sub-zones are
inside the package and ``psys`` covers the whole platform, so they are left out (they
would double count). ``intel-rapl-mmio`` zones mirror the MSR package zones and are
left out for the same reason.

Counters wrap at ``max_energy_range_uj``; the meter keeps the last raw value of each zone
and adds the range when a new value is smaller. The sampler polls every second, far
more often than a counter can wrap (minutes at full power).

``read()`` keeps the ``energy_uj`` files open and uses ``os.pread`` (a few µs per zone).
Since Linux 5.10 ``energy_uj`` is readable by root only (CVE-2020-8694); opening then
raises ``MeterError`` with the fix.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from wattprint.errors import MeterError
from wattprint.meters.base import Component, ComponentKind

DEFAULT_ROOT = Path("/sys/class/powercap")
_TOP = re.compile(r"^(intel-rapl|amd-rapl):(\d+)$")
_SUB = re.compile(r"^(intel-rapl|amd-rapl):(\d+):(\d+)$")
_PACKAGE = re.compile(r"^package-(\d+)$")


def permission_fix(energy_file: Path) -> str:
    """How to make RAPL counters readable without running as root."""
    zone = energy_file.parent.name
    prefix = zone.split(":", 1)[0] if ":" in zone else "intel-rapl"
    root = energy_file.parent.parent
    while root.name.startswith(prefix + ":"):
        root = root.parent
    return (
        "energy_uj is readable by root only since Linux 5.10 (CVE-2020-8694). Fix: "
        f"sudo chmod a+r {root}/{prefix}:*/energy_uj (until reboot), or a udev rule such as "
        f'SUBSYSTEM=="powercap", ACTION=="add", RUN+="/bin/chmod a+r /sys%p/energy_uj"'
    )


@dataclass
class _Zone:
    component: str
    path: Path
    max_range_uj: int | None
    fd: int
    last_uj: int
    total_uj: int = 0


def _read_text(path: Path) -> str:
    with path.open(encoding="ascii") as fh:
        return fh.read().strip()


def _zone_dirs(root: Path) -> list[Path]:
    """Top-level zones and their sub-zones (sysfs lists sub-zones both at the top and
    inside their parent; each is kept once, by name)."""
    found: dict[str, Path] = {}
    for entry in sorted(root.iterdir()):
        if _TOP.match(entry.name):
            found.setdefault(entry.name, entry)
            for sub in sorted(entry.iterdir()):
                if _SUB.match(sub.name):
                    found.setdefault(sub.name, sub)
        elif _SUB.match(entry.name):
            found.setdefault(entry.name, entry)
    return [found[name] for name in sorted(found)]


class RaplMeter:
    """Measured CPU package (``cpu:N``) and DRAM (``dram:N``) energy from powercap."""

    def __init__(self, root: Path = DEFAULT_ROOT) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise MeterError(f"RAPL: {self.root} absent")
        self._lock = threading.Lock()
        self._zones: list[_Zone] = []
        self._closed = False
        components: list[Component] = []
        self.skipped: dict[str, str] = {}
        try:
            for zone_dir in _zone_dirs(self.root):
                spec = self._classify(zone_dir)
                if spec is None:
                    continue
                component, kind, description = spec
                zone = self._open_zone(zone_dir, component)
                self._zones.append(zone)
                components.append(
                    Component(
                        name=component,
                        kind=kind,
                        source=self.name,
                        quality="measured",
                        description=description,
                        basis=f"RAPL counter {zone.path}",
                        details={"zone": zone_dir.name, "path": str(zone.path)},
                    )
                )
        except BaseException:
            self.close()
            raise
        if not self._zones:
            raise MeterError(f"RAPL: no package or DRAM zone under {self.root}")
        self._components = tuple(components)

    def _classify(self, zone_dir: Path) -> tuple[str, ComponentKind, str] | None:
        try:
            zone_name = _read_text(zone_dir / "name")
        except OSError as exc:
            raise MeterError(f"RAPL: cannot read {zone_dir / 'name'} ({exc})") from exc
        top = _TOP.match(zone_dir.name)
        if top is not None:
            index = top.group(2)
            package = _PACKAGE.match(zone_name)
            if package is not None:
                return (
                    f"cpu:{package.group(1)}",
                    "cpu",
                    f"CPU package {package.group(1)} ({zone_name})",
                )
            if zone_name == "dram":
                return f"dram:{index}", "ram", f"DRAM ({zone_dir.name})"
            self.skipped[zone_dir.name] = zone_name
            return None
        sub = _SUB.match(zone_dir.name)
        if sub is not None and zone_name == "dram":
            index = sub.group(2)
            try:
                parent = _PACKAGE.match(_read_text(self.root / f"{sub.group(1)}:{index}" / "name"))
            except OSError:
                parent = None
            if parent is not None:
                index = parent.group(1)
            return f"dram:{index}", "ram", f"DRAM of package {index} ({zone_dir.name})"
        # core / uncore are inside the package; psys covers the platform: double counting.
        self.skipped[zone_dir.name] = zone_name
        return None

    def _open_zone(self, zone_dir: Path, component: str) -> _Zone:
        path = zone_dir / "energy_uj"
        try:
            fd = os.open(path, os.O_RDONLY)
        except PermissionError as exc:
            raise MeterError(
                f"RAPL: cannot read {path} (permission denied). {permission_fix(path)}"
            ) from exc
        except OSError as exc:
            raise MeterError(f"RAPL: cannot open {path} ({exc.strerror or exc})") from exc
        try:
            raw = self._pread(fd, path)
        except BaseException:
            os.close(fd)
            raise
        try:
            max_range: int | None = int(_read_text(zone_dir / "max_energy_range_uj"))
        except (OSError, ValueError):
            max_range = None
        return _Zone(component, path, max_range, fd, raw)

    @staticmethod
    def _pread(fd: int, path: Path) -> int:
        try:
            data = os.pread(fd, 32, 0)
        except PermissionError as exc:
            raise MeterError(
                f"RAPL: cannot read {path} (permission denied). {permission_fix(path)}"
            ) from exc
        except OSError as exc:
            raise MeterError(f"RAPL: cannot read {path} ({exc.strerror or exc})") from exc
        try:
            return int(data)
        except ValueError:
            raise MeterError(f"RAPL: {path} holds {data[:32]!r}, not a counter") from None

    @property
    def name(self) -> str:
        return "rapl"

    @property
    def components(self) -> tuple[Component, ...]:
        return self._components

    @property
    def needs_polling(self) -> bool:
        return True

    @property
    def has_package(self) -> bool:
        return any(c.kind == "cpu" for c in self._components)

    @property
    def has_dram(self) -> bool:
        return any(c.kind == "ram" for c in self._components)

    def _advance(self, check_vanished: bool) -> dict[str, float]:
        with self._lock:
            if self._closed:
                raise MeterError("RAPL: meter is closed")
            result: dict[str, float] = {}
            for zone in self._zones:
                if check_vanished and os.fstat(zone.fd).st_nlink == 0:
                    raise MeterError(f"RAPL: {zone.path} vanished")
                raw = self._pread(zone.fd, zone.path)
                delta = raw - zone.last_uj
                if delta < 0:
                    if zone.max_range_uj is None:
                        raise MeterError(
                            f"RAPL: {zone.path} went backwards and max_energy_range_uj is unknown"
                        )
                    delta += zone.max_range_uj
                zone.total_uj += delta
                zone.last_uj = raw
                result[zone.component] = zone.total_uj / 1e6
            return result

    def read(self) -> dict[str, float]:
        """Two ``pread`` calls' worth of work per zone: the hot path of every window."""
        return self._advance(check_vanished=False)

    def poll(self) -> dict[str, float]:
        """Also checks that no zone file was removed (the sampler calls this every
        interval, so a vanished zone is noticed within one interval)."""
        return self._advance(check_vanished=True)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for zone in self._zones:
                with contextlib.suppress(OSError):
                    os.close(zone.fd)

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

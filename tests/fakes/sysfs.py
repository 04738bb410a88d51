"""A fake ``/sys/class/powercap`` tree: the lowest edge of the RAPL meter."""

from __future__ import annotations

import os
from pathlib import Path


class FakePowercap:
    """A ``/sys/class/powercap`` look-alike whose energy counters a test advances."""

    def __init__(self, root: Path, max_range_uj: int = 262_143_328_850) -> None:
        self.root = root
        self.max_range_uj = max_range_uj
        root.mkdir(parents=True, exist_ok=True)

    def add_zone(self, zone: str, name: str, energy_uj: int = 0) -> Path:
        """Create ``intel-rapl:N`` (package) or ``intel-rapl:N:M`` (sub-zone)."""
        parts = zone.split(":")
        path = self.root / zone if len(parts) == 2 else self.root / ":".join(parts[:2]) / zone
        path.mkdir(parents=True, exist_ok=True)
        (path / "name").write_text(name + "\n")
        (path / "energy_uj").write_text(f"{energy_uj}\n")
        (path / "max_energy_range_uj").write_text(f"{self.max_range_uj}\n")
        return path

    def zone_path(self, zone: str) -> Path:
        parts = zone.split(":")
        return self.root / zone if len(parts) == 2 else self.root / ":".join(parts[:2]) / zone

    def advance(self, zone: str, joules: float) -> None:
        """Add ``joules`` to a zone's counter, wrapping at ``max_energy_range_uj``.

        The file is rewritten in place with one fixed-width ``pwrite`` (no truncation),
        so a meter reading it from another thread never sees it empty or half-written.
        """
        f = self.zone_path(zone) / "energy_uj"
        value = (int(f.read_text()) + round(joules * 1e6)) % (self.max_range_uj + 1)
        fd = os.open(f, os.O_WRONLY)
        try:
            os.pwrite(fd, f"{value:020d}\n".encode(), 0)
        finally:
            os.close(fd)

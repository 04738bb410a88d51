from __future__ import annotations

import os
import timeit
from pathlib import Path

import pytest

from tests.fakes.sysfs import FakePowercap
from wattprint.errors import MeterError
from wattprint.meters.rapl import RaplMeter


def _set(fake: FakePowercap, zone: str, energy_uj: int) -> None:
    (fake.zone_path(zone) / "energy_uj").write_text(f"{energy_uj}\n")


def _zone(root: Path, dirname: str, name: str, energy_uj: int = 0, max_uj: int = 10**12) -> Path:
    path = root / dirname
    path.mkdir(parents=True)
    (path / "name").write_text(name + "\n")
    (path / "energy_uj").write_text(f"{energy_uj}\n")
    (path / "max_energy_range_uj").write_text(f"{max_uj}\n")
    return path


def test_components_packages_and_dram_not_core(powercap: FakePowercap) -> None:
    meter = RaplMeter(powercap.root)
    try:
        names = {c.name: c for c in meter.components}
        assert set(names) == {"cpu:0", "cpu:1", "dram:0"}
        assert names["cpu:0"].kind == "cpu" and names["dram:0"].kind == "ram"
        assert all(c.quality == "measured" and c.source == "rapl" for c in meter.components)
        assert all(c.low_ratio == c.high_ratio == 1.0 for c in meter.components)
        assert "intel-rapl:0/energy_uj" in names["cpu:0"].basis
        assert "intel-rapl:0:1/energy_uj" in names["dram:0"].basis
        assert meter.skipped == {"intel-rapl:0:0": "core"}
        assert meter.has_package and meter.has_dram and meter.needs_polling
        assert meter.read() == {"cpu:0": 0.0, "cpu:1": 0.0, "dram:0": 0.0}
    finally:
        meter.close()


def test_totals_since_open_without_double_counting_core(powercap: FakePowercap) -> None:
    meter = RaplMeter(powercap.root)
    powercap.advance("intel-rapl:0", 5.0)
    powercap.advance("intel-rapl:0:0", 4.0)  # core: inside package 0, must not be added
    powercap.advance("intel-rapl:0:1", 1.5)
    powercap.advance("intel-rapl:1", 2.25)
    assert meter.read() == pytest.approx({"cpu:0": 5.0, "cpu:1": 2.25, "dram:0": 1.5})
    powercap.advance("intel-rapl:0", 1.0)
    meter.poll()
    assert meter.read()["cpu:0"] == pytest.approx(6.0)
    assert sum(meter.read().values()) == pytest.approx(6.0 + 2.25 + 1.5)
    meter.close()
    meter.close()  # idempotent
    with pytest.raises(MeterError, match="closed"):
        meter.read()


def test_sub_zones_linked_at_top_level_are_counted_once(powercap: FakePowercap) -> None:
    # The kernel lists intel-rapl:0:1 both inside intel-rapl:0 and in the class folder.
    for sub in ("intel-rapl:0:0", "intel-rapl:0:1"):
        os.symlink(powercap.zone_path(sub), powercap.root / sub)
    (powercap.root / "intel-rapl").mkdir()  # the control type folder, not a zone
    meter = RaplMeter(powercap.root)
    powercap.advance("intel-rapl:0:1", 2.0)
    assert sorted(c.name for c in meter.components) == ["cpu:0", "cpu:1", "dram:0"]
    assert meter.read()["dram:0"] == pytest.approx(2.0)
    meter.close()


def test_wrap_around(tmp_path: Path) -> None:
    max_uj = 65_532_610_987
    fake = FakePowercap(tmp_path / "pc", max_range_uj=max_uj)
    fake.add_zone("intel-rapl:0", "package-0", max_uj - 1_000_000)
    meter = RaplMeter(fake.root)
    _set(fake, "intel-rapl:0", max_uj - 250_000)  # +0.75 J
    meter.poll()
    _set(fake, "intel-rapl:0", 3_000_000)  # wrapped: +0.25 J to the top, +3 J after
    assert meter.read()["cpu:0"] == pytest.approx(4.0)
    _set(fake, "intel-rapl:0", 3_500_000)
    assert meter.read()["cpu:0"] == pytest.approx(4.5)
    # A second wrap in the same run, through the shared fake's own wrapping.
    _set(fake, "intel-rapl:0", max_uj - 500_000)
    meter.poll()
    fake.advance("intel-rapl:0", 1.0)
    total_j = 4.5 + (max_uj - 500_000 - 3_500_000) / 1e6 + 1.0
    assert meter.read()["cpu:0"] == pytest.approx(total_j, abs=1e-5)
    meter.close()


def test_amd_style_tree(tmp_path: Path) -> None:
    root = tmp_path / "powercap"
    _zone(root, "amd-rapl:0", "package-0", 10)
    _zone(root, "amd-rapl:0/amd-rapl:0:0", "core", 10)
    meter = RaplMeter(root)
    assert [c.name for c in meter.components] == ["cpu:0"]
    assert not meter.has_dram
    (root / "amd-rapl:0" / "energy_uj").write_text("7000010\n")
    assert meter.read() == {"cpu:0": pytest.approx(7.0)}
    meter.close()


def test_psys_and_mmio_zones_are_left_out(powercap: FakePowercap) -> None:
    _zone(powercap.root, "intel-rapl:2", "psys", 5)
    _zone(powercap.root, "intel-rapl-mmio:0", "package-0", 5)  # mirrors intel-rapl:0
    meter = RaplMeter(powercap.root)
    assert {c.name for c in meter.components} == {"cpu:0", "cpu:1", "dram:0"}
    assert meter.skipped["intel-rapl:2"] == "psys"
    meter.close()


def test_package_numbers_come_from_the_name_file(tmp_path: Path) -> None:
    fake = FakePowercap(tmp_path / "pc")
    fake.add_zone("intel-rapl:0", "package-1")
    fake.add_zone("intel-rapl:0:0", "dram")
    meter = RaplMeter(fake.root)
    assert {c.name for c in meter.components} == {"cpu:1", "dram:1"}
    meter.close()


def test_absent_root(tmp_path: Path) -> None:
    with pytest.raises(MeterError, match=r"RAPL: .*nowhere absent"):
        RaplMeter(tmp_path / "nowhere")


def test_no_zones(tmp_path: Path) -> None:
    FakePowercap(tmp_path / "pc")
    with pytest.raises(MeterError, match="no package or DRAM zone"):
        RaplMeter(tmp_path / "pc")


def test_permission_denied_gives_the_fix(
    powercap: FakePowercap, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As root, chmod 000 would not stop the read: fail os.open with EACCES for that one
    # file, as the kernel does for non-root users since Linux 5.10.
    target = str(powercap.zone_path("intel-rapl:1") / "energy_uj")
    real_open = os.open
    opened: list[int] = []
    real_close = os.close
    closed: list[int] = []

    def guarded_open(path: str | os.PathLike[str], flags: int, *args: int) -> int:
        if os.fspath(path) == target:
            raise PermissionError(13, "Permission denied", target)
        fd = real_open(path, flags, *args)
        opened.append(fd)
        return fd

    def tracking_close(fd: int) -> None:
        closed.append(fd)
        real_close(fd)

    monkeypatch.setattr(os, "open", guarded_open)
    monkeypatch.setattr(os, "close", tracking_close)
    with pytest.raises(MeterError) as info:
        RaplMeter(powercap.root)
    text = str(info.value)
    assert "permission denied" in text and target in text
    assert "CVE-2020-8694" in text
    assert f"sudo chmod a+r {powercap.root}/intel-rapl:*/energy_uj" in text
    assert "udev" in text
    assert opened and sorted(opened) == sorted(closed)  # zones opened before were closed


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads mode-000 files")
def test_permission_denied_real_chmod(powercap: FakePowercap) -> None:
    (powercap.zone_path("intel-rapl:0") / "energy_uj").chmod(0)
    with pytest.raises(MeterError, match="chmod a\\+r"):
        RaplMeter(powercap.root)


def test_unreadable_energy_file_is_a_clean_error(powercap: FakePowercap) -> None:
    energy = powercap.zone_path("intel-rapl:1") / "energy_uj"
    energy.unlink()
    energy.mkdir()  # open() of a directory works; reading it fails with EISDIR
    with pytest.raises(MeterError, match=r"cannot read .*intel-rapl:1/energy_uj"):
        RaplMeter(powercap.root)


def test_garbage_in_energy_file(powercap: FakePowercap) -> None:
    meter = RaplMeter(powercap.root)
    _set(powercap, "intel-rapl:0", 0)
    (powercap.zone_path("intel-rapl:0") / "energy_uj").write_text("oops\n")
    with pytest.raises(MeterError, match="not a counter"):
        meter.read()
    meter.close()


def test_zone_vanishing_mid_run(powercap: FakePowercap) -> None:
    meter = RaplMeter(powercap.root)
    powercap.advance("intel-rapl:0:1", 1.0)
    assert meter.read()["dram:0"] == pytest.approx(1.0)
    (powercap.zone_path("intel-rapl:0:1") / "energy_uj").unlink()
    meter.read()  # the hot path does not look: the sampler's poll does
    with pytest.raises(MeterError, match=r"intel-rapl:0:1/energy_uj vanished"):
        meter.poll()
    meter.close()


def test_read_is_cheap(tmp_path: Path) -> None:
    fake = FakePowercap(tmp_path / "pc")
    fake.add_zone("intel-rapl:0", "package-0")
    fake.add_zone("intel-rapl:0:0", "dram")
    meter = RaplMeter(fake.root)
    n = 2000
    per_read_s = min(timeit.repeat(meter.read, number=n, repeat=3)) / n
    meter.close()
    assert per_read_s < 200e-6  # ~5-15 µs on a normal machine; generous for loaded CI

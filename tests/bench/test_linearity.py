"""Straight-line fits of the scaling experiments."""

from __future__ import annotations

import pytest

from wattprint.bench.linearity import analyse_scaling, fit_line
from wattprint.bench.results import Benchmark
from wattprint.errors import ConfigError


def test_an_exact_line_is_recovered_with_r2_of_one() -> None:
    fit = fit_line("epochs", "J", [1, 2, 3, 4], [12.0, 22.0, 32.0, 42.0])
    assert fit is not None
    assert fit.slope == pytest.approx(10.0)
    assert fit.intercept == pytest.approx(2.0)
    assert fit.r2 == pytest.approx(1.0)
    assert fit.n == 4


def test_scatter_lowers_r2_and_one_x_fits_nothing() -> None:
    fit = fit_line("x", "y", [1, 2, 3, 4], [1.0, 4.0, 2.0, 5.0])
    assert fit is not None and 0.0 < fit.r2 < 0.8
    assert fit_line("x", "y", [2, 2, 2], [1.0, 2.0, 3.0]) is None
    with pytest.raises(ValueError, match="3 xs for 2 ys"):
        fit_line("x", "y", [1, 2, 3], [1.0, 2.0])


def test_only_a_scaling_benchmark_is_analysed() -> None:
    with pytest.raises(ConfigError, match="is a 'vision' suite, not 'scaling'"):
        analyse_scaling(Benchmark(id="b", suite="vision", started_at=0.0, models=()))

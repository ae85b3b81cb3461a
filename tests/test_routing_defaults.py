"""The tool that chose the routing defaults (benchmarks.routing_defaults)."""

from __future__ import annotations

import math

import pytest

from benchmarks.leads import stream_inputs
from benchmarks.routing_defaults import GRID, Outcome, choose, evaluate, main
from lead_routing.routing import RoutingPolicy


def test_the_grid_holds_the_defaults_once_each() -> None:
    assert len(GRID) == len(set(GRID)) == 45
    assert RoutingPolicy() in GRID


def _row(*cells: tuple[float, float]) -> list[Outcome]:
    return [Outcome(seed, gain, extra, ()) for seed, (gain, extra) in enumerate(cells)]


def test_the_rule_keeps_the_best_gain_with_no_more_breaches_on_every_seed() -> None:
    outcomes = [
        _row((0.12, 1.0), (0.12, -5.0)),  # the most gain, but more breaches on one seed
        _row((0.10, -1.0), (0.11, 0.0)),
        _row((0.09, -9.0), (0.10, -9.0)),
    ]
    assert choose(outcomes) == 1
    assert choose([_row((0.2, 0.5))]) is None


def test_a_setting_is_replayed_against_least_loaded_on_each_seed() -> None:
    inputs = {1: stream_inputs(4, 8, 1), 2: stream_inputs(4, 8, 2)}
    (row,) = evaluate([RoutingPolicy()], inputs, draws=2)
    assert [o.seed for o in row] == [1, 2]
    for outcome in row:
        assert math.isfinite(outcome.gain) and len(outcome.draws) == 2
        assert outcome.extra_breaches == sum(outcome.draws) / 2


def test_the_command_prints_each_setting_and_the_choice(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--quick", "--seeds", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3 and out[0].startswith("load 5 pending 1 HABC 10/5/1/-1")
    assert out[-1].startswith(("chosen: load", "no setting"))

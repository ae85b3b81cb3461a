"""The ``transfers`` benchmark at a tiny size: every figure it promises, finite, per case and
method (correctness only; benchmarks are never timed in tests)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from benchmarks import transfers
from benchmarks.runner import RESULTS_ENV, Row, run_benchmark

PLAN = {
    "net_gain_cny": "CNY",
    "model_net_gain_cny": "CNY",
    "transport_cost_cny": "CNY",
    "solve_seconds": "s",
    "cars_moved": "cars",
    "trucks": "trucks",
    "slow_moving_share": "ratio",
    "days_of_supply": "days",
    "projected_lost_sales": "cars",
    "fill_rate": "ratio",
}


@pytest.mark.slow
def test_transfers_benchmark_writes_every_figure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(RESULTS_ENV, str(tmp_path))
    monkeypatch.setattr(transfers, "CASES", {"g60": (8, 16)})
    monkeypatch.setattr(transfers, "SAMPLES", 50)

    run_benchmark("transfers", quick=True)

    rows = [Row(**r) for r in json.loads((tmp_path / "transfers.json").read_text())["rows"]]
    got = {(r.case, r.method, r.metric): r for r in rows}
    assert len(got) == len(rows)
    expected = {
        ("g60", "turnwise", m): u
        for m, u in {"gap": "ratio", "bound_cny": "CNY", "forecast_seconds": "s"}.items()
    }
    for method in ("turnwise", "turnwise-fast", "baseline-greedy"):
        expected |= {("g60", method, m): u for m, u in PLAN.items()}
    for kpi in ("slow_moving_share", "days_of_supply", "projected_lost_sales", "fill_rate"):
        expected[("g60", "no-moves", kpi)] = PLAN[kpi]
    for key, unit in expected.items():
        assert key in got, f"missing {key}"
        assert got[key].unit == unit and math.isfinite(got[key].value)
    turnwise = got[("g60", "turnwise", "model_net_gain_cny")].value
    fast = got[("g60", "turnwise-fast", "model_net_gain_cny")].value
    assert turnwise >= fast - 1e-6, "the MIP starts from the fast plan"
    if transfers.NETGEN.is_file():
        assert got[("netgen", "turnwise-fast", "objective")].value == transfers.NETGEN_OPTIMUM

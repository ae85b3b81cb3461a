"""The ``leads`` benchmark at a tiny size, gRPC against a real server process: every figure
it promises, finite, per case and method (correctness only; benchmarks are never timed in
tests)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from benchmarks import leads
from benchmarks.runner import RESULTS_ENV, Row, run_benchmark

TINY = leads.Sizes(
    latency_stores=3,
    inproc_calls=60,
    grpc_calls=((1, 10), (100, 100)),
    grpc_open=(50.0, 20),
    grpc_warmup=5,
    batch_stores=3,
    batch_leads=60,
    gap_files=("gap1",),
    lap_sizes=(100,),
    gap_seconds=5.0,
    stream_stores=4,
    stream_trims=8,
    x_education_rows=600,
    model_batch_leads=20,
    stream_draws=2,
)
STREAM = {
    "expected_conversions": "conversions",
    "sla_breaches": "leads",
    "late_first_contacts": "leads",
    "waited": "leads",
    "unassigned": "leads",
    "load_cv": "ratio",
    "load_max_over_mean": "x",
    "replay_seconds": "s",
}
STREAM_METHODS = ("turnwise", "turnwise-prior", "baseline-round-robin", "baseline-least-loaded")


def expected() -> dict[tuple[str, str, str], str]:
    rows: dict[tuple[str, str, str], str] = {}
    for case in ("latency", "latency/region-scope"):
        for method in ("turnwise", "baseline-least-loaded"):
            rows[(case, method, "routelead_p50_ms_inproc")] = "ms"
            rows[(case, method, "routelead_p99_ms_inproc")] = "ms"
        rows[(case, "turnwise", "advisors")] = "advisors"
    for case in ("latency/grpc-1", "latency/grpc-100", "latency/grpc-open-50rps"):
        rows |= {
            (case, "turnwise", "routelead_p50_ms_grpc"): "ms",
            (case, "turnwise", "routelead_p99_ms_grpc"): "ms",
            (case, "turnwise", "calls_per_second"): "calls/s",
        }
    batch = {"solve_seconds": "s", "expected_conversions": "conversions", "unassigned": "leads"}
    for method in ("turnwise", "baseline-least-loaded"):
        rows |= {("batch", method, m): u for m, u in batch.items()}
    rows |= {("batch", "turnwise", m): u for m, u in (("solver_seconds", "s"), ("gap", "ratio"))}
    rows |= {("batch", "turnwise", m): u for m, u in (("leads", "leads"), ("advisors", "advisors"))}
    if (leads.DATA / "orlib_gap").is_dir():
        for case in ("orlib/gap1-max", "orlib/gap1-min"):
            rows |= {
                (case, "turnwise", "instances"): "instances",
                (case, "turnwise", "solve_seconds"): "s",
                (case, "turnwise", "solve_seconds_max"): "s",
                (case, "turnwise", "gap"): "ratio",
                (case, "turnwise", "optimum_reached"): "instances",
            }
    if (leads.DATA / "orlib_assign").is_dir():
        rows |= {
            ("orlib/assign100", "turnwise", "solve_seconds"): "s",
            ("orlib/assign100", "turnwise", "gap"): "ratio",
            ("orlib/assign100", "turnwise", "optimum_reached"): "instances",
            ("orlib/assign100", "scipy", "solve_seconds"): "s",
            ("orlib/assign100", "scipy", "optimum_reached"): "instances",
        }
    stream = "stream/g4"
    rows |= {(stream, m, metric): u for m in STREAM_METHODS for metric, u in STREAM.items()}
    rows |= {(stream, "turnwise", m): u for m, u in (("leads", "leads"), ("fit_seconds", "s"))}
    rows[(stream, "turnwise", "training_leads")] = "leads"
    for method in ("turnwise", "per-lead"):
        rows[("batch-model/g4", method, "solve_seconds")] = "s"
        rows[("batch-model/g4", method, "expected_conversions")] = "conversions"
    rows[("batch-model/g4", "turnwise", "leads")] = "leads"
    for method in ("turnwise", "turnwise-prior"):
        rows[(stream, method, "conversion_gain_vs_least_loaded")] = "ratio"
        rows[(stream, method, "extra_sla_breaches_vs_least_loaded")] = "leads"
    draws = {
        "draws": "draws",
        "conversion_gain_vs_least_loaded": "ratio",
        "conversion_gain_min": "ratio",
        "extra_sla_breaches_vs_least_loaded": "leads",
        "extra_sla_breaches_min": "leads",
        "extra_sla_breaches_max": "leads",
    }
    rows |= {(f"{stream}/draws", "turnwise", metric): unit for metric, unit in draws.items()}
    scoring = ["scoring/demo-g4"]
    if (leads.DATA / "x_education_leads" / "Leads.csv").is_file():
        scoring.append("scoring/x-education")
    for case in scoring:
        for method in ("turnwise", "logistic-regression"):
            rows[(case, method, "auc")] = "ratio"
            rows[(case, method, "brier")] = "ratio"
        rows[(case, "turnwise", "rows")] = "leads"
        rows[(case, "turnwise", "cv_seconds")] = "s"
    return rows


@pytest.mark.slow
def test_leads_benchmark_writes_every_figure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(RESULTS_ENV, str(tmp_path))
    monkeypatch.setattr(leads, "QUICK", TINY)

    run_benchmark("leads", quick=True)

    rows = [Row(**r) for r in json.loads((tmp_path / "leads.json").read_text())["rows"]]
    got = {(r.case, r.method, r.metric): r for r in rows}
    assert len(got) == len(rows), "a figure is reported twice"
    want = expected()
    assert set(got) == set(want)
    for key, unit in want.items():
        assert got[key].unit == unit, key
        assert math.isfinite(got[key].value), key
    for case in ("latency", "latency/region-scope"):
        for method in ("turnwise", "baseline-least-loaded"):
            p50 = got[(case, method, "routelead_p50_ms_inproc")].value
            assert 0 < p50 <= got[(case, method, "routelead_p99_ms_inproc")].value
    for case in ("latency/grpc-1", "latency/grpc-100", "latency/grpc-open-50rps"):
        p50 = got[(case, "turnwise", "routelead_p50_ms_grpc")].value
        assert 0 < p50 <= got[(case, "turnwise", "routelead_p99_ms_grpc")].value
    assert got[("batch", "turnwise", "gap")].value <= 1e-4
    assert got[("batch", "turnwise", "leads")].value == TINY.batch_leads
    if ("orlib/gap1-max", "turnwise", "instances") in got:
        for case in ("orlib/gap1-max", "orlib/gap1-min"):
            solved = got[(case, "turnwise", "optimum_reached")].value
            assert solved == got[(case, "turnwise", "instances")].value == 5
    if ("orlib/assign100", "scipy", "optimum_reached") in got:
        assert got[("orlib/assign100", "turnwise", "optimum_reached")].value == 1.0
        assert got[("orlib/assign100", "scipy", "optimum_reached")].value == 1.0
    stream = [got[("stream/g4", m, "expected_conversions")].value for m in STREAM_METHODS]
    assert all(value > 0 for value in stream)
    draws = {
        m: got[("stream/g4/draws", "turnwise", m)].value
        for m in (
            "draws",
            "conversion_gain_min",
            "conversion_gain_vs_least_loaded",
            "extra_sla_breaches_min",
            "extra_sla_breaches_vs_least_loaded",
            "extra_sla_breaches_max",
        )
    }
    assert draws["draws"] == TINY.stream_draws
    assert draws["conversion_gain_min"] <= draws["conversion_gain_vs_least_loaded"]
    low, mean, high = (draws[f"extra_sla_breaches_{k}"] for k in ("min", "vs_least_loaded", "max"))
    assert low <= mean <= high
    for case in ("scoring/demo-g4", "scoring/x-education"):
        if (case, "turnwise", "auc") in got:
            assert 0.5 < got[(case, "turnwise", "auc")].value <= 1.0
    assert "wrote" in capsys.readouterr().out

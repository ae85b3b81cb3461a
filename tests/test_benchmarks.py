"""Benchmarks: correctness only, never timing. The ``grpc`` benchmark runs end to end at a
tiny size (real server processes, real channels) and writes every figure it promises; the
registry refuses unknown names; server processes are always stopped."""

from __future__ import annotations

import json
import math
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from benchmarks import echo_server, grpc_roundtrip
from benchmarks.runner import (
    BENCHMARKS,
    RESULTS_ENV,
    Row,
    format_table,
    get_benchmark,
    run_benchmark,
)
from benchmarks.server_process import ServerProcess
from turnwise.errors import DeadlineExceeded, FailedPrecondition, InvalidArgument

TINY = grpc_roundtrip.Sizes(sequential_calls=20, concurrent_calls=100, warmup_calls=5, rounds=2)

CASES = [
    "GetNetworkSummary/sequential",
    "GetNetworkSummary/concurrent-50",
    "UpsertRegions/sequential",
    "UpsertRegions/concurrent-50",
]
TURNWISE_METRICS = {"p50_ms": "ms", "p99_ms": "ms", "calls_per_second": "calls/s"}
EXPECTED = {
    (case, method, metric): unit
    for case in CASES
    for method in ("turnwise", "baseline-grpcio-echo")
    for metric, unit in TURNWISE_METRICS.items()
} | {(case, "turnwise", "p50_ratio_vs_echo"): "x" for case in CASES}


@pytest.mark.slow
def test_grpc_benchmark_writes_every_figure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(RESULTS_ENV, str(tmp_path))
    monkeypatch.setattr(grpc_roundtrip, "QUICK", TINY)

    run_benchmark("grpc", quick=True)

    document = json.loads((tmp_path / "grpc.json").read_text())
    assert set(document) == {"commit", "dirty", "machine", "date", "quick", "rows"}
    assert isinstance(document["commit"], str) and document["commit"]
    assert isinstance(document["dirty"], bool)
    assert document["quick"] is True
    assert set(document["machine"]) == {"cpu", "cores", "memory_gb", "python", "platform"}
    assert datetime.fromisoformat(document["date"]).utcoffset() == UTC.utcoffset(None)

    rows = [Row(**row) for row in document["rows"]]
    keys = [(r.case, r.method, r.metric) for r in rows]
    assert len(keys) == len(set(keys))
    assert set(keys) == set(EXPECTED)
    by_key = {(r.case, r.method, r.metric): r for r in rows}
    for key, row in by_key.items():
        assert row.unit == EXPECTED[key], key
        assert math.isfinite(row.value) and row.value > 0, key
    for case in CASES:
        for method in ("turnwise", "baseline-grpcio-echo"):
            assert by_key[case, method, "p99_ms"].value >= by_key[case, method, "p50_ms"].value
        ratio = by_key[case, "turnwise", "p50_ms"].value / (
            by_key[case, "baseline-grpcio-echo", "p50_ms"].value
        )
        assert by_key[case, "turnwise", "p50_ratio_vs_echo"].value == pytest.approx(ratio)

    printed = capsys.readouterr().out
    assert printed.splitlines()[0].split() == ["case", "method", "metric", "value", "unit"]
    assert all(case in printed for case in CASES)
    assert f"wrote {tmp_path / 'grpc.json'}" in printed


def test_unknown_benchmark_names_the_choices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(RESULTS_ENV, str(tmp_path))
    with pytest.raises(InvalidArgument) as err:
        run_benchmark("nope", quick=True)
    assert err.value.field == "name"
    assert str(err.value).startswith("name: unknown benchmark 'nope'; choose one of: ")
    assert "grpc" in str(err.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", sorted(BENCHMARKS))
def test_every_registered_benchmark_resolves_to_a_run_function(name: str) -> None:
    assert callable(get_benchmark(name))


def test_grpc_is_registered() -> None:
    assert get_benchmark("grpc") is grpc_roundtrip.run


def test_table_aligns_columns() -> None:
    rows = [
        Row("sequential", "turnwise", "p50_ms", 1.234, "ms"),
        Row("concurrent-50", "baseline-grpcio-echo", "calls_per_second", 2422.4, "calls/s"),
    ]
    lines = format_table(rows).splitlines()
    assert len(lines) == 4
    assert lines[2].split() == ["sequential", "turnwise", "p50_ms", "1.23", "ms"]
    assert lines[3].split()[3] == "2422"
    assert (
        lines[2].index("p50_ms") == lines[3].index("calls_per_second") == lines[0].index("metric")
    )


def test_sizes_are_validated() -> None:
    with pytest.raises(InvalidArgument):
        grpc_roundtrip.Sizes(sequential_calls=1, concurrent_calls=10, warmup_calls=0, rounds=2)


def test_server_process_is_stopped_when_its_block_ends(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "benchmarks.echo_server", "--port", "0"]
    with ServerProcess("echo", argv, echo_server.READY_PREFIX, tmp_path / "echo.log") as server:
        address = server.wait_ready(60)
        assert address.startswith("127.0.0.1:")
        assert server.running
    assert not server.running


def test_server_process_that_exits_early_fails_with_its_output(tmp_path: Path) -> None:
    argv = [sys.executable, "-c", "print('starting'); raise SystemExit(3)"]
    with (
        ServerProcess("broken", argv, "listening on ", tmp_path / "broken.log") as server,
        pytest.raises(FailedPrecondition, match=r"exited with code 3.*starting"),
    ):
        server.wait_ready(60)


def test_server_process_that_never_gets_ready_times_out_and_is_stopped(tmp_path: Path) -> None:
    argv = [sys.executable, "-c", "import signal; print('starting', flush=True); signal.pause()"]
    with ServerProcess("hung", argv, "listening on ", tmp_path / "hung.log") as server:
        with pytest.raises(DeadlineExceeded, match="did not print 'listening on '"):
            server.wait_ready(0.5)
        assert server.running
    assert not server.running


def test_open_loop_sends_every_call_without_waiting_for_replies() -> None:
    import asyncio

    from benchmarks.closed_loop import open_loop

    in_flight, most = 0, 0

    async def call() -> None:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.05)  # slower than the 2 ms between arrivals
        in_flight -= 1

    timings = asyncio.run(open_loop(call, rate_per_second=500.0, calls=40, seed=1))
    assert timings.calls == 40
    assert min(timings.latencies_s) >= 0.05
    assert most > 1, "arrivals do not wait for the replies"

"""`turnwise serve` as a real process: prints its address, answers over a real channel
(also to `buf curl`, a non-Python client, through reflection), and shuts down gracefully
on SIGTERM."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.conftest import start_serve_process
from turnwise.v1 import network_pb2, network_pb2_grpc


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc, address = start_serve_process(tmp_path, "--no-demo")[:2]
    yield proc, address
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)


def test_serve_answers_and_stops_gracefully_on_sigterm(
    served: tuple[subprocess.Popen[str], str],
) -> None:
    proc, address = served
    with grpc.insecure_channel(address) as ch:
        reply = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
        stub = network_pb2_grpc.NetworkServiceStub(ch)
        assert (
            stub.GetNetworkSummary(network_pb2.GetNetworkSummaryRequest(), timeout=10).stores == 0
        )
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    assert proc.stderr is not None
    assert '"msg": "shutting down"' in proc.stderr.read()


BUF = Path(sys.executable).parent / "buf"


@pytest.mark.skipif(
    not BUF.exists() and shutil.which("buf") is None, reason="buf (PyPI buf-bin) not installed"
)
def test_buf_curl_calls_through_reflection(served: tuple[subprocess.Popen[str], str]) -> None:
    _, address = served
    buf = str(BUF) if BUF.exists() else "buf"
    base = [buf, "curl", "--protocol", "grpc", "--http2-prior-knowledge"]
    data = json.dumps({"regions": [{"region_id": "R09", "name": "Southwest"}]})
    upsert = subprocess.run(
        [*base, "-d", data, f"http://{address}/turnwise.v1.NetworkService/UpsertRegions"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(upsert.stdout)["summary"]["inserted"] == 1
    summary = subprocess.run(
        [*base, f"http://{address}/turnwise.v1.NetworkService/GetNetworkSummary"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(summary.stdout)["regions"] == 1
    bad = subprocess.run(
        [
            *base,
            "-d",
            '{"regions":[{"region_id":"","name":"x"}]}',
            f"http://{address}/turnwise.v1.NetworkService/UpsertRegions",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode != 0
    assert "invalid_argument" in bad.stderr.lower() and "regions[0].region_id" in bad.stderr

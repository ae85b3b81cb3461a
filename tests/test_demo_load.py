"""The demo group goes into the store through the same validated upserts as the RPCs,
and `turnwise demo-data` / `turnwise load` / `turnwise serve` use it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import grpc

from dealer_group.demo import DemoSpec, generate
from serving.store import network
from serving.store.db import Database
from serving.store.demo_load import DEMO_OEM, load_group
from tests.conftest import start_serve_process
from turnwise.v1 import network_pb2, network_pb2_grpc

SMALL = DemoSpec(stores=6, trims=24, seed=3, weeks=30, lead_days=7)


def test_demo_group_loads_completely_and_reloads_unchanged(db: Database) -> None:
    group = generate(SMALL)
    first = load_group(db, group)
    with db.read() as conn:
        summary = network.network_summary(conn)
    assert summary.stores == len(group.stores) and summary.trims == len(group.trims)
    assert summary.sales_rows == len(group.sales) == first["sales"].inserted
    assert summary.leads == len(group.leads) and summary.advisors == len(group.advisors)
    assert summary.schedule_versions == ((DEMO_OEM, 1),)
    again = load_group(db, group)
    assert all(c.inserted == 0 and c.updated == 0 for c in again.values())


def test_cli_demo_data_then_load(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    env = {**os.environ, "TURNWISE_DATABASE_URL": f"sqlite:///{tmp_path / 'tw.db'}"}
    cli = [sys.executable, "-m", "serving.cli"]
    subprocess.run(
        [*cli, "demo-data", "--out", str(out), "--stores", "5", "--trims", "20"],
        check=True,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert (out / "sales.csv").exists() and (out / "manifest.json").exists()
    loaded = subprocess.run(
        [*cli, "load", "--data", str(out)],
        check=True,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "stores" in loaded.stdout and "inserted        5" in loaded.stdout
    bad = subprocess.run(
        [*cli, "demo-data", "--out", str(out), "--stores", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "stores: must be within" in bad.stderr


def test_serve_loads_the_demo_into_an_empty_store(tmp_path: Path) -> None:
    env = {"TURNWISE_DEMO_STORES": "5", "TURNWISE_DEMO_TRIMS": "20"}
    proc, address, printed = start_serve_process(tmp_path, env=env)
    try:
        assert any(line.startswith("loaded the demo dealer group (5 stores") for line in printed)
        with grpc.insecure_channel(address) as ch:
            stub = network_pb2_grpc.NetworkServiceStub(ch)
            summary = stub.GetNetworkSummary(network_pb2.GetNetworkSummaryRequest(), timeout=10)
        assert summary.stores == 5 and summary.sales_rows > 0 and summary.leads > 0
    finally:
        proc.terminate()
        proc.wait(30)

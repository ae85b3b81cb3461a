"""``turnwise plan-pickup`` on a directory written by ``turnwise demo-data``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from serving.cli import main


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo-data", "--out", str(out), "--stores", "6", "--trims", "16"]) == 0
    return out


@pytest.mark.slow
def test_plan_pickup_writes_the_lines_and_prints_the_kpis(
    demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan, trims = tmp_path / "plan.csv", tmp_path / "trims.csv"
    code = main(
        ["plan-pickup", "--data", str(demo_dir), "--output", str(plan), "--trims", str(trims)]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "plan 2026-11-02..2026-11-29: OPTIMAL" in printed
    for kpi in ("expected_profit_cny", "fill_rate", "days_of_supply", "slow_moving_share"):
        assert kpi in printed
    lines = pd.read_csv(plan)
    assert list(lines.columns) == [
        "store_id",
        "trim_id",
        "week_start",
        "units",
        "expected_sales",
        "reason",
    ]
    assert len(lines) > 0 and (lines["units"] >= 1).all()
    offers = pd.read_csv(demo_dir / "oem_offers.csv")
    ordered = lines.groupby(["week_start", "trim_id"])["units"].sum()
    offered = offers.set_index(["week_start", "trim_id"])["max_units"]
    assert (ordered <= offered.reindex(ordered.index)).all()
    decisions = pd.read_csv(trims)
    assert len(decisions) == len(pd.read_csv(demo_dir / "trims.csv"))
    assert f"wrote {len(lines)} order lines" in printed


def test_plan_pickup_takes_a_demand_file_and_checks_it(
    demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    demand = tmp_path / "demand.csv"
    pd.DataFrame(
        {
            "store_id": ["S001"],
            "trim_id": ["T9999"],
            "week_start": ["2026-11-02"],
            "q0.1": [1.0],
            "q0.5": [2.0],
            "q0.9": [4.0],
        }
    ).to_csv(demand, index=False)
    args = ["plan-pickup", "--data", str(demo_dir), "--output", str(tmp_path / "p.csv")]
    assert main([*args, "--demand", str(demand)]) == 2
    assert "demand[0].trim_id: no trim 'T9999'" in capsys.readouterr().err
    assert main([*args, "--first-week", "2026-11-03"]) == 2
    assert "--first-week: 2026-11-03 is a Tuesday" in capsys.readouterr().err


@pytest.mark.slow
def test_plan_transfers_writes_the_moves_and_lanes(
    demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    moves_csv, lanes_csv, recent_csv = (
        tmp_path / "moves.csv",
        tmp_path / "lanes.csv",
        tmp_path / "r.csv",
    )
    args = ["plan-transfers", "--data", str(demo_dir), "--output", str(moves_csv)]
    assert main([*args, "--lanes", str(lanes_csv), "--loading-limit", "4"]) == 0
    printed = capsys.readouterr().out
    assert "transfers consolidated: OPTIMAL" in printed and "simulated net gain" in printed
    moves = pd.read_csv(moves_csv)
    assert list(moves.columns) == [
        "vin",
        "from_store_id",
        "to_store_id",
        "trim_id",
        "colour",
        "age_days",
        "truck_id",
        "expected_gain_cny",
        "reason",
    ]
    assert len(moves) > 0 and moves["vin"].is_unique
    assert (moves.groupby("from_store_id").size() <= 4).all()
    stock = pd.read_csv(demo_dir / "inventory.csv").set_index("vin")
    assert (stock.loc[moves["vin"], "store_id"].to_numpy() == moves["from_store_id"]).all()
    lanes = pd.read_csv(lanes_csv)
    assert lanes["cars"].sum() == len(moves)
    assert f"wrote {len(moves)} moves" in printed

    # the cars just moved may not move again within 30 days
    pd.DataFrame({"vin": moves["vin"], "moved_on": "2026-10-30"}).to_csv(recent_csv, index=False)
    again = tmp_path / "again.csv"
    assert main(["plan-transfers", "--data", str(demo_dir), "--output", str(again),
                 "--mode", "fast", "--recent-moves", str(recent_csv)]) == 0  # fmt: skip
    assert not set(pd.read_csv(again)["vin"]) & set(moves["vin"])


def test_plan_transfers_names_a_bad_recent_moves_file(
    demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "recent.csv"
    bad.write_text("vin,moved_on\nX,yesterday\n")
    args = ["plan-transfers", "--data", str(demo_dir), "--output", str(tmp_path / "m.csv")]
    assert main([*args, "--recent-moves", str(bad)]) == 2
    assert "recent.csv:2: moved_on 'yesterday' is not a date" in capsys.readouterr().err

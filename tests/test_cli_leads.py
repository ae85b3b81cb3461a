"""``turnwise route-leads`` on a directory written by ``turnwise demo-data``: the CSV of each
mode (every lead once, only eligible advisors, within capacity), a saved scorer, the summary,
and errors that name the bad input and exit 2 without a stack trace."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dealer_group.demo import read_csv
from lead_routing.features import demo_training_set
from lead_routing.scoring import ScorerParams, fit_scorer
from serving.cli import main
from serving.cli_leads import COLUMNS


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo-data", "--out", str(out), "--stores", "4", "--trims", "8"]) == 0
    return out


def _check(demo_dir: Path, out: Path) -> pd.DataFrame:
    """The CSV has every lead once, in the order of leads.csv, the historical advisor beside
    it, and only advisors of the lead's store certified for its brand."""
    rows = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert tuple(rows.columns) == COLUMNS
    leads = pd.read_csv(demo_dir / "leads.csv", dtype=str, keep_default_na=False)
    advisors = pd.read_csv(demo_dir / "advisors.csv", dtype=str).set_index("advisor_id")
    assert rows["lead_id"].tolist() == leads["lead_id"].tolist()
    assert rows["historical_advisor_id"].tolist() == leads["advisor_id"].tolist()
    for lead, row in zip(leads.itertuples(), rows.itertuples(), strict=True):
        if row.advisor_id:
            advisor = advisors.loc[row.advisor_id]
            assert advisor["store_id"] == lead.store_id
            assert lead.brand_id in advisor["brand_ids"].split(";")
            assert 0.0 < float(row.score) <= 1.0 and row.first_contact_due
        else:
            assert row.reason.startswith("unassigned")
    return rows


def test_stream_mode_writes_every_lead_and_prints_the_summary(
    demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "assign.csv"
    assert main(["route-leads", "--data", str(demo_dir), "--output", str(out)]) == 0
    rows = _check(demo_dir, out)
    printed = capsys.readouterr().out
    assert f"routed {len(rows)} leads (stream, turnwise)" in printed
    assert "scores by the prior fallback" in printed
    assert "by the historical assignment" in printed and "SLA breaches: " in printed
    assert "busiest advisors:" in printed and f"wrote {len(rows)} rows to {out}" in printed
    breached = rows["sla_breached"].astype(int)
    assert int(printed.split("SLA breaches: ")[1].split()[0]) == breached.sum()
    assigned = rows[rows["advisor_id"] != ""]
    assert (assigned["assigned_at"] <= assigned["first_contact_at"]).all()


@pytest.mark.parametrize("policy", ["round-robin", "least-loaded"])
def test_stream_mode_runs_the_baseline_policies(
    demo_dir: Path, tmp_path: Path, policy: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "assign.csv"
    args = ["route-leads", "--data", str(demo_dir), "--output", str(out), "--policy", policy]
    assert main([*args, "--holding-hours", "12", "--seed", "3"]) == 0
    _check(demo_dir, out)
    assert f"(stream, {policy})" in capsys.readouterr().out


def test_batch_mode_keeps_within_each_advisors_capacity(
    demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "batch.csv"
    args = ["route-leads", "--data", str(demo_dir), "--output", str(out), "--mode", "batch"]
    assert main([*args, "--at", "2026-11-03T12:00:00+08:00"]) == 0
    rows = _check(demo_dir, out)
    printed = capsys.readouterr().out
    assert "batch at 2026-11-03T04:00:00Z: OPTIMAL" in printed
    assert "SLA: not simulated in batch mode" in printed
    caps = pd.read_csv(demo_dir / "advisors.csv").set_index("advisor_id")["max_open_leads"]
    counts = rows.loc[rows["advisor_id"] != "", "advisor_id"].value_counts()
    assert (counts <= caps.reindex(counts.index)).all()
    assert (rows["advisor_id"] == "").any(), "more leads than slots: some wait"


def test_a_saved_scorer_makes_the_scores(
    demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    training = demo_training_set(read_csv(demo_dir))
    params = ScorerParams(n_estimators=20, calibration_folds=2)
    scorer = fit_scorer(training.frame, training.target, params)
    saved = scorer.save(tmp_path / "scorer")
    out = tmp_path / "assign.csv"
    args = ["route-leads", "--data", str(demo_dir), "--output", str(out)]
    assert main([*args, "--scorer", str(saved)]) == 0
    _check(demo_dir, out)
    assert f"scores by model {scorer.model_version}" in capsys.readouterr().out


def test_errors_name_the_input_and_exit_2(
    demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "a.csv")
    missing = tmp_path / "nowhere"
    assert main(["route-leads", "--data", str(missing), "--output", out]) == 2
    err = capsys.readouterr().err
    assert f"manifest.json: not found in {missing}" in err and "Traceback" not in err

    broken = tmp_path / "broken"
    broken.mkdir()
    for path in demo_dir.iterdir():
        (broken / path.name).write_bytes(path.read_bytes())
    advisors = pd.read_csv(broken / "advisors.csv").drop(columns=["max_open_leads"])
    advisors.to_csv(broken / "advisors.csv", index=False)
    assert main(["route-leads", "--data", str(broken), "--output", out]) == 2
    assert "advisors.csv" in capsys.readouterr().err

    args = ["route-leads", "--data", str(demo_dir), "--output", out]
    assert main([*args, "--mode", "batch", "--policy", "least-loaded"]) == 2
    assert "--policy: least-loaded has no batch form" in capsys.readouterr().err
    assert main([*args, "--mode", "batch", "--at", "2026-11-03T12:00"]) == 2
    assert "--at: '2026-11-03T12:00' has no time zone" in capsys.readouterr().err
    assert main([*args, "--holding-hours", "0"]) == 2
    assert "--holding-hours: must be a finite number > 0" in capsys.readouterr().err
    assert main([*args, "--scorer", str(tmp_path)]) == 2
    assert "scorer.json: no scorer artefact here" in capsys.readouterr().err

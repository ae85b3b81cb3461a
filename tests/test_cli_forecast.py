"""``turnwise forecast | backtest | plot`` on CSV files, run in process through
``serving.cli.main`` (plus one run of the installed console script for the exit status).
Tiny panels and single cheap models keep every test fast."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from serving.cli import main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _no_ray_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    """``make_backend`` would connect to ``$RAY_ADDRESS``; these tests run in process."""
    monkeypatch.delenv("RAY_ADDRESS", raising=False)


def _history(weeks: int = 60) -> pd.DataFrame:
    """Three weekly series (one with a zero-padded id that must stay a string) and a tiny
    one of three points, in the long format, each series sorted by date."""
    rng = np.random.default_rng(4)
    ds = pd.date_range("2022-01-03", periods=weeks, freq="W-MON")
    parts = [
        pd.DataFrame({"unique_id": uid, "ds": ds, "y": rng.poisson(lam, weeks).astype(float)})
        for uid, lam in (("007", 12.0), ("b", 30.0), ("c", 4.0))
    ]
    parts.append(pd.DataFrame({"unique_id": "tiny", "ds": ds[:3], "y": [2.0, 4.0, 3.0]}))
    frame = pd.concat(parts, ignore_index=True)
    frame["ds"] = frame["ds"].dt.strftime("%Y-%m-%d")
    return frame


def _write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


def _forecast_args(history: Path, out: Path, *extra: str) -> list[str]:
    return [
        "forecast",
        "--input", str(history),
        "--horizon", "4",
        "--freq", "W",
        "--quantiles", "0.1,0.5,0.9",
        "--model", "ets",
        "--output", str(out),
        *extra,
    ]  # fmt: skip


def test_forecast_writes_mean_and_quantile_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = _write(_history(), tmp_path / "history.csv")
    out, report = tmp_path / "out" / "forecast.csv", tmp_path / "report.csv"
    assert main(_forecast_args(history, out, "--report", str(report))) == 0
    stdout = capsys.readouterr().out
    assert "forecast 4 series x 4 steps" in stdout
    assert "fallback tiny: ets needs >= 4 observations, got 3; fell back to seasonal naive" in (
        stdout
    )

    frame = pd.read_csv(out, dtype={"unique_id": str})
    assert list(frame.columns) == ["unique_id", "ds", "mean", "q0.1", "q0.5", "q0.9"]
    assert frame["unique_id"].drop_duplicates().tolist() == ["007", "b", "c", "tiny"]
    assert len(frame) == 4 * 4
    b = frame[frame["unique_id"] == "b"]
    # 60 Mondays from 2022-01-03 end on 2023-02-20: the forecast covers the next four
    assert b["ds"].tolist() == ["2023-02-27", "2023-03-06", "2023-03-13", "2023-03-20"]
    q = frame[["q0.1", "q0.5", "q0.9"]].to_numpy()
    assert np.isfinite(q).all() and (np.diff(q, axis=1) >= 0).all() and (q >= 0).all()
    assert (frame["mean"] >= 0).all()
    assert 20 < b["mean"].mean() < 40  # a Poisson(30) series is forecast near its level

    rows = pd.read_csv(report, dtype={"unique_id": str}, keep_default_na=False)
    assert {"unique_id", "model", "fallback_reason", "backtest_winner"} <= set(rows.columns)
    by_id = rows.set_index("unique_id")
    assert by_id.loc["b", "model"] == "ets" and by_id.loc["b", "fallback_reason"] == ""
    assert by_id.loc["tiny", "model"] == "seasonal-naive"
    assert by_id.loc["tiny", "fallback_reason"].startswith("ets needs >= 4 observations")


Defect = Callable[[pd.DataFrame], tuple[pd.DataFrame, list[int]]]
"""Breaks a valid history; returns it and the CSV lines that the error must name."""


def _duplicate(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[int]]:
    b = frame.index[frame["unique_id"] == "b"]
    dup = frame.loc[[b[10]]]
    out = pd.concat([frame.loc[: b[10]], dup, frame.loc[b[10] + 1 :]], ignore_index=True)
    return out, [b[10] + 2, b[10] + 3]  # CSV lines: header is line 1, row 0 is line 2


def _nan_y(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[int]]:
    row = frame.index[frame["unique_id"] == "b"][7]
    frame.loc[row, "y"] = np.nan
    return frame, [row + 2]


def _out_of_order(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[int]]:
    b = frame.index[frame["unique_id"] == "b"]
    order = list(frame.index)
    order[b[5]], order[b[6]] = order[b[6]], order[b[5]]
    return frame.loc[order].reset_index(drop=True), [b[6] + 2]


@pytest.mark.parametrize(
    ("defect", "words"),
    [
        (_duplicate, "duplicate (unique_id, ds)"),
        (_nan_y, "missing, NaN or non-numeric y"),
        (_out_of_order, "dates out of order"),
    ],
)
def test_a_bad_csv_fails_naming_the_series_and_the_csv_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], defect: Defect, words: str
) -> None:
    frame, lines = defect(_history())
    history = _write(frame, tmp_path / "history.csv")
    text = history.read_text().splitlines()
    for line in lines:  # the lines named are the faulty rows of series b in the file itself
        assert text[line - 1].startswith("b,")
    out = tmp_path / "forecast.csv"
    assert main(_forecast_args(history, out)) == 2
    err = capsys.readouterr().err
    assert err.startswith("turnwise forecast: error: ") and "Traceback" not in err
    assert "series 'b'" in err and words in err
    assert f"rows {', '.join(str(n) for n in lines)}" in err
    assert not out.exists()


def test_the_console_script_exits_non_zero_on_a_bad_csv(tmp_path: Path) -> None:
    frame, lines = _nan_y(_history())
    history = _write(frame, tmp_path / "history.csv")
    script = Path(sys.executable).with_name("turnwise")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "serving.cli"]
    done = subprocess.run(
        [*cmd, *_forecast_args(history, tmp_path / "forecast.csv")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"series 'b': missing, NaN or non-numeric y at rows {lines[0]}" in done.stderr


def test_bad_options_fail_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = _write(_history(), tmp_path / "history.csv")
    out = tmp_path / "forecast.csv"
    args = _forecast_args(history, out)
    args[args.index("0.1,0.5,0.9")] = "0.1,1.5"
    assert main(args) == 2
    assert "quantiles[1]: must be in (0, 1), got 1.5" in capsys.readouterr().err
    missing = _forecast_args(tmp_path / "nope.csv", out)
    assert main(missing) == 2
    assert "no such file" in capsys.readouterr().err
    assert not out.exists()


def test_backtest_prints_the_metrics_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = _write(_history(), tmp_path / "history.csv")
    scores = tmp_path / "scores.csv"
    # no --freq: weekly is inferred from the Mondays
    code = main(
        [
            "backtest",
            "--input", str(history),
            "--horizon", "4",
            "--folds", "2",
            "--models", "ets,seasonal-naive",
            "--output", str(scores),
        ]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    lines = captured.out.strip().splitlines()
    header = lines[0].split()
    assert header[:5] == ["wape", "mase", "smape", "pinball", "coverage"]
    assert lines[1].split() == ["model"]  # the index name
    table = {line.split()[0]: line.split()[1:] for line in lines[2:]}
    assert set(table) == {"ets", "seasonal-naive"}
    for model, values in table.items():
        numbers = dict(zip(header, map(float, values), strict=True))
        for name in ("wape", "mase", "smape", "pinball", "coverage"):
            assert np.isfinite(numbers[name]), (model, name)
        assert 0 <= numbers["coverage"] <= 1 and numbers["wape"] > 0
        assert numbers["series"] == 3  # 'tiny' is too short to hold out 4 weeks
    assert "fold 1 ets: wape" in captured.err and "fold 2 seasonal-naive: wape" in captured.err
    per_fold = pd.read_csv(scores)
    assert sorted(zip(per_fold["model"], per_fold["fold"], strict=True)) == [
        ("ets", 1),
        ("ets", 2),
        ("seasonal-naive", 1),
        ("seasonal-naive", 2),
    ]


def test_backtest_rejects_an_unknown_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = _write(_history(), tmp_path / "history.csv")
    args = ["backtest", "--input", str(history), "--horizon", "4", "--models", "ets,magic"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "'magic' is not a valid ModelName" in err and "choose from" in err


def test_plot_writes_a_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    history = _write(_history(), tmp_path / "history.csv")
    forecast_csv = tmp_path / "forecast.csv"
    assert main(_forecast_args(history, forecast_csv)) == 0
    png = tmp_path / "plots" / "007.png"
    args = ["plot", "--input", str(history), "--forecast", str(forecast_csv)]
    assert main([*args, "--series", "007", "--output", str(png)]) == 0
    assert f"wrote {png}" in capsys.readouterr().out
    data = png.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 5_000

    other = tmp_path / "zzz.png"
    assert main([*args, "--series", "zzz", "--output", str(other)]) == 2
    assert "no series 'zzz'" in capsys.readouterr().err
    assert not other.exists()

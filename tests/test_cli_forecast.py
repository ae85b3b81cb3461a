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


def _one_error_line(err: str, command: str, path: Path) -> str:
    """The single stderr line of a failed command, checked to name ``path``."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith(f"turnwise {command}: error: {path}: "), err
    return lines[0]


UNREADABLE = {
    "empty": (b"", "empty file"),
    "blank lines": (b"\n\n", "empty file"),
    "ragged": (b"unique_id,ds,y\na,2022-01-03,1\na,2022-01-10,2,7\n", "line 3"),
    "not utf-8": (b"unique_id,ds,y\n\xff\xfe,2022-01-03,1\n", "UTF-8"),
}


@pytest.mark.parametrize("command", ["forecast", "backtest"])
@pytest.mark.parametrize("case", sorted(UNREADABLE))
def test_an_unreadable_csv_fails_with_one_line_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, case: str
) -> None:
    content, words = UNREADABLE[case]
    history = tmp_path / "history.csv"
    history.write_bytes(content)
    out = tmp_path / "forecast.csv"
    args = _forecast_args(history, out)
    if command == "backtest":
        args = ["backtest", "--input", str(history), "--horizon", "4", "--models", "ets"]
    assert main(args) == 2
    line = _one_error_line(capsys.readouterr().err, command, history)
    assert words in line
    assert not out.exists()


def test_an_unreadable_future_csv_fails_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = _history()
    frame["price"] = 1.0
    history = _write(frame, tmp_path / "history.csv")
    future = tmp_path / "future.csv"
    future.write_bytes(b"")
    out = tmp_path / "forecast.csv"
    assert main(_forecast_args(history, out, "--future", str(future))) == 2
    assert "empty file" in _one_error_line(capsys.readouterr().err, "forecast", future)


@pytest.mark.parametrize("column", ["unique_id", "ds", "y"])
def test_a_missing_column_is_named_with_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], column: str
) -> None:
    history = _write(_history().drop(columns=column), tmp_path / "history.csv")
    assert main(_forecast_args(history, tmp_path / "forecast.csv")) == 2
    line = _one_error_line(capsys.readouterr().err, "forecast", history)
    assert f"missing column {column!r}" in line


def test_unparseable_dates_name_the_csv_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = _history()
    b = frame.index[frame["unique_id"] == "b"]
    frame.loc[b[3], "ds"] = "2022-13-45"
    frame.loc[b[8], "ds"] = "soon"
    history = _write(frame, tmp_path / "history.csv")
    lines = [b[3] + 2, b[8] + 2]
    text = history.read_text().splitlines()
    assert [text[n - 1].split(",")[1] for n in lines] == ["2022-13-45", "soon"]
    for args in (
        _forecast_args(history, tmp_path / "forecast.csv"),
        ["backtest", "--input", str(history), "--horizon", "4", "--models", "ets"],
    ):
        assert main(args) == 2
        line = _one_error_line(capsys.readouterr().err, args[0], history)
        assert f"ds: missing or not a date at rows {lines[0]}, {lines[1]};" in line


def test_backtest_takes_regressors_from_the_history_without_future(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = _history()
    rng = np.random.default_rng(9)
    frame["price"] = rng.uniform(90.0, 110.0, len(frame)).round(2)
    history = _write(frame, tmp_path / "history.csv")
    args = ["backtest", "--input", str(history), "--horizon", "4", "--folds", "2"]
    code = main([*args, "--models", "seasonal-naive,xgboost"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    lines = captured.out.strip().splitlines()
    assert lines[0].split()[:5] == ["wape", "mase", "smape", "pinball", "coverage"]
    table = {line.split()[0]: line.split()[1:] for line in lines[2:]}
    assert set(table) == {"seasonal-naive", "xgboost"}
    assert all(np.isfinite(float(v)) for v in table["xgboost"][:4])

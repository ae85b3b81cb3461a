"""``turnwise forecast --attributes``: a reconciled hierarchy from CSV files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from serving.cli import main


def _files(tmp_path: Path, weeks: int = 80) -> tuple[Path, Path]:
    rng = np.random.default_rng(5)
    ds = pd.date_range("2022-01-03", periods=weeks, freq="W-MON")
    rows, attrs = [], []
    for store, region in (("S1", "R1"), ("S2", "R2")):
        for trim, model in (("T1", "M1"), ("T2", "M1"), ("T3", "M2")):
            uid = f"{store}/{trim}"
            attrs.append((uid, region, store, model))
            y = rng.poisson(3.0 + len(attrs), weeks)
            rows += [(uid, d.date().isoformat(), float(v)) for d, v in zip(ds, y, strict=True)]
    attrs.append(("S2/T9", "R2", "S2", "M1"))  # a new trim: no history
    history, attributes = tmp_path / "history.csv", tmp_path / "attributes.csv"
    pd.DataFrame(rows, columns=["unique_id", "ds", "y"]).to_csv(history, index=False)
    pd.DataFrame(attrs, columns=["unique_id", "region_id", "store_id", "model_id"]).to_csv(
        attributes, index=False
    )
    return history, attributes


def test_forecast_writes_every_node_reconciled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history, attributes = _files(tmp_path)
    out = tmp_path / "out.csv"
    code = main(
        [
            "forecast",
            "--input", str(history),
            "--horizon", "3",
            "--model", "ets",
            "--attributes", str(attributes),
            "--levels", "total;region_id;store_id,model_id",
            "--reconcile", "mint",
            "--output", str(out),
        ]
    )  # fmt: skip
    assert code == 0
    assert "new series S2/T9: borrowed from store_id=S2/model_id=M1" in capsys.readouterr().out
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["unique_id", "level", "ds", "mean", "q0.1", "q0.5", "q0.9"]
    assert frame["unique_id"].nunique() == 1 + 2 + 4 + 7
    total = frame[frame["level"] == "total"].set_index("ds")["mean"]
    bottom = frame[frame["level"] == "bottom"].groupby("ds")["mean"].sum()
    np.testing.assert_allclose(total.sort_index(), bottom.sort_index(), rtol=1e-9)
    new = frame[frame["unique_id"] == "S2/T9"]["mean"]
    assert len(new) == 3 and (new > 0).all()


def test_a_bad_history_row_names_the_csv_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history, attributes = _files(tmp_path)
    frame = pd.read_csv(history)
    frame.loc[10, "y"] = np.nan  # CSV line 12
    frame.to_csv(history, index=False)
    code = main(
        [
            "forecast",
            "--input", str(history),
            "--horizon", "3",
            "--attributes", str(attributes),
            "--levels", "region_id",
            "--output", str(tmp_path / "out.csv"),
        ]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert "'S1/T1'" in err and "rows 12" in err and "Traceback" not in err


def test_levels_are_required_with_attributes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history, attributes = _files(tmp_path)
    code = main(
        [
            "forecast",
            "--input", str(history),
            "--horizon", "3",
            "--attributes", str(attributes),
            "--output", str(tmp_path / "out.csv"),
        ]
    )  # fmt: skip
    assert code == 2
    assert "--levels" in capsys.readouterr().err

"""Loaders of the real datasets in shared/data: canonical long format, shapes and known
values; a clear DatasetMissing when the data is absent."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting import datasets as ds
from turnwise.errors import DatasetMissing, InvalidArgument

DATA = ds.shared_data_dir()


def _absent(folder: str) -> pytest.MarkDecorator:
    path = DATA / folder
    return pytest.mark.skipif(
        not path.is_dir(),
        reason=f"shared data not found at {path}; set TURNWISE_SHARED_DATA to run this test",
    )


def needs(folder: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Mark a test ``shared_data`` and skip it, with the reason, when ``folder`` is absent."""

    def mark(test: Callable[[], None]) -> Callable[[], None]:
        return pytest.mark.shared_data(_absent(folder)(test))

    return mark


LOADERS: dict[str, tuple[str, Callable[[], pd.DataFrame]]] = {
    "norway_by_make": ("norway_car_sales", ds.load_norway_by_make),
    "norway_total": ("norway_car_sales", ds.load_norway_total),
    "aus_vehicle_sales": ("aus_vehicle_sales", ds.load_aus_vehicle_sales),
    "us_total": ("us_total_vehicle_sales", ds.load_us_total_vehicle_sales),
    "quebec": ("quebec_car_sales", ds.load_quebec_car_sales),
    "m4_train": ("m4_weekly", lambda: ds.load_m4_weekly("train")),
    "m4_test": ("m4_weekly", lambda: ds.load_m4_weekly("test")),
    "tourism": ("aus_tourism_hierarchical", ds.load_tourism),
    "tourism_hierarchy": ("aus_tourism_hierarchical", ds.tourism_hierarchy),
}


def _assert_canonical(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == ["unique_id", "ds", "y"]
    assert pd.api.types.is_string_dtype(frame["unique_id"])
    assert frame["ds"].dtype == np.dtype("datetime64[ns]")
    assert frame["y"].dtype == np.float64
    assert not frame.isna().any().any()
    assert not frame.duplicated(["unique_id", "ds"]).any()
    ordered = frame.sort_values(["unique_id", "ds"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(frame, ordered)


def _value(frame: pd.DataFrame, unique_id: str, day: str) -> float:
    row = frame[(frame["unique_id"] == unique_id) & (frame["ds"] == pd.Timestamp(day))]
    assert len(row) == 1, (unique_id, day)
    return float(row["y"].iloc[0])


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=[pytest.mark.shared_data, _absent(folder)])
        for name, (folder, _) in LOADERS.items()
        if name != "tourism_hierarchy"
    ],
)
def test_loaders_return_the_canonical_long_format(name: str) -> None:
    _assert_canonical(LOADERS[name][1]())


@needs("norway_car_sales")
def test_norway_by_make_known_values() -> None:
    frame = ds.load_norway_by_make()
    assert frame["unique_id"].nunique() == 65
    assert _value(frame, "Toyota", "2007-01-01") == 2884
    assert _value(frame, "Volkswagen", "2007-01-01") == 2521
    assert _value(frame, "Lexus", "2015-04-01") == 74  # the duplicate rows 73 + 1, summed
    assert _value(frame, "Tesla", "2013-05-01") == 0  # absent inside Tesla's span: filled
    tesla = frame[frame["unique_id"] == "Tesla"]
    assert tesla["ds"].min() > pd.Timestamp("2009-01-01")  # not filled before its start
    assert frame["ds"].min() == pd.Timestamp("2007-01-01")
    assert frame["ds"].max() == pd.Timestamp("2017-01-01")
    full = frame.groupby("unique_id").size()
    assert (full == 121).sum() >= 24
    spans = frame.groupby("unique_id")["ds"].agg(["min", "max", "size"])
    months = (spans["max"].dt.year - spans["min"].dt.year) * 12 + (
        spans["max"].dt.month - spans["min"].dt.month
    )
    assert (spans["size"] == months + 1).all()  # every series is gap-free


@needs("norway_car_sales")
def test_norway_total_matches_the_makes_within_a_few_cars() -> None:
    total = ds.load_norway_total()
    assert len(total) == 121 and set(total["unique_id"]) == {"Norway"}
    assert _value(total, "Norway", "2007-01-01") == 12685
    by_make = ds.load_norway_by_make().groupby("ds")["y"].sum()
    gap = total.set_index("ds")["y"] - by_make
    assert gap.between(0, 4).all()  # the makes fall 1-4 cars short in 10 months
    assert (gap == 0).sum() == 111


@needs("aus_vehicle_sales")
def test_aus_vehicle_sales_known_values() -> None:
    frame = ds.load_aus_vehicle_sales()
    assert len(frame) == 864
    assert set(frame["unique_id"]) == {"Other", "Passenger", "SUV"}
    assert _value(frame, "Other", "1994-01-01") == 5460
    assert _value(frame, "SUV", "2017-12-01") == 40429
    assert (frame.groupby("unique_id").size() == 288).all()


@needs("us_total_vehicle_sales")
def test_us_total_vehicle_sales_known_values() -> None:
    frame = ds.load_us_total_vehicle_sales()
    assert len(frame) == 547
    assert _value(frame, "TOTALNSA", "1976-01-01") == pytest.approx(885.2)
    assert _value(frame, "TOTALNSA", "2020-04-01") == pytest.approx(
        743.276
    )  # COVID (3 decimals from 2002)
    assert frame["ds"].max() == pd.Timestamp("2021-07-01")
    assert (frame["ds"].diff().dropna().dt.days.between(28, 31)).all()  # no gaps


@needs("quebec_car_sales")
def test_quebec_car_sales_known_values() -> None:
    frame = ds.load_quebec_car_sales()
    assert len(frame) == 108
    assert _value(frame, "Quebec", "1960-01-01") == 6550
    assert frame["ds"].max() == pd.Timestamp("1968-12-01")
    assert frame["y"].between(5568, 26099).all()


@needs("m4_weekly")
def test_m4_weekly_train_and_test_line_up() -> None:
    train = ds.load_m4_weekly("train")
    test = ds.load_m4_weekly("test")
    lengths = train.groupby("unique_id").size()
    assert len(lengths) == 359 and lengths.min() == 80 and lengths.max() == 2597
    assert (train.groupby("unique_id")["ds"].max() == ds.M4_TRAIN_END).all()
    assert (train.groupby("unique_id")["ds"].diff().dropna() == pd.Timedelta(weeks=1)).all()
    assert len(test) == 359 * ds.M4_TEST_HORIZON
    first = test.groupby("unique_id")["ds"].min()
    assert (first == ds.M4_TRAIN_END + pd.Timedelta(weeks=1)).all()
    assert _value(test, "W1", "2018-01-01") == pytest.approx(35397.16)
    assert _value(test, "W2", str((ds.M4_TRAIN_END + pd.Timedelta(weeks=13)).date())) == (
        pytest.approx(3354.758)
    )


def test_m4_weekly_rejects_an_unknown_split() -> None:
    with pytest.raises(InvalidArgument) as err:
        ds.load_m4_weekly("validation")  # type: ignore[arg-type]
    assert err.value.field == "split"


@needs("aus_tourism_hierarchical")
def test_tourism_and_its_hierarchy() -> None:
    frame = ds.load_tourism()
    assert len(frame) == 24320
    assert (frame.groupby("unique_id").size() == 80).all()
    assert frame["ds"].min() == pd.Timestamp("1998-01-01")
    assert frame["ds"].max() == pd.Timestamp("2017-10-01")
    adelaide = _value(frame, "South Australia/Adelaide/Business", "1998-01-01")
    assert adelaide == pytest.approx(135.0776903)
    hierarchy = ds.tourism_hierarchy()
    assert list(hierarchy.columns) == ["unique_id", "State", "Region", "Purpose"]
    assert len(hierarchy) == 304 and set(hierarchy["unique_id"]) == set(frame["unique_id"])
    assert hierarchy["State"].nunique() == 8 and hierarchy["Region"].nunique() == 76
    assert hierarchy.groupby("Region")["State"].nunique().max() == 1  # regions nest in states


@pytest.mark.parametrize("name", list(LOADERS))
def test_missing_data_raises_dataset_missing(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TURNWISE_SHARED_DATA", str(tmp_path))
    folder, load = LOADERS[name]
    with pytest.raises(DatasetMissing) as err:
        load()
    assert err.value.field == folder
    message = str(err.value)
    assert f"not found at {tmp_path / folder}" in message
    assert "set TURNWISE_SHARED_DATA or place shared/data beside the repo" in message


def test_shared_data_dir_defaults_to_beside_the_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TURNWISE_SHARED_DATA", raising=False)
    repo = Path(ds.__file__).resolve().parents[1]
    assert ds.shared_data_dir() == repo.parent / "shared" / "data"
    monkeypatch.setenv("TURNWISE_SHARED_DATA", "/somewhere/else")
    assert ds.shared_data_dir() == Path("/somewhere/else")

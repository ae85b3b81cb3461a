"""The forecasting input: validation errors name the series and rows; gaps; calendar."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.calendar import CALENDAR_FEATURES, calendar_features
from forecasting.panel import Frequency, build_panel, check_levels, infer_frequency
from turnwise.errors import InvalidArgument


def _weekly(uid: str, n: int, start: str = "2024-01-01", **extra: list[float]) -> pd.DataFrame:
    ds = pd.date_range(start, periods=n, freq="W-MON")
    return pd.DataFrame({"unique_id": uid, "ds": ds, "y": np.arange(n, dtype=float), **extra})


def test_panel_keeps_series_in_input_order_with_float_values() -> None:
    df = pd.concat([_weekly("b", 5), _weekly("a", 3)], ignore_index=True)
    panel = build_panel(df, Frequency.WEEKLY, 4)
    assert panel.ids == ["b", "a"]
    assert panel.series[0].y.dtype == np.float64
    assert panel.series[1].x_future.shape == (4, 0)
    assert panel.gaps == {}


def test_duplicate_keys_name_the_series_and_rows() -> None:
    df = pd.concat([_weekly("a", 4), _weekly("b", 3), _weekly("b", 1)], ignore_index=True)
    with pytest.raises(InvalidArgument, match=r"series 'b': duplicate .* rows 4, 7") as err:
        build_panel(df, Frequency.WEEKLY, 2)
    assert err.value.field == "ds"


def test_nan_y_names_the_rows_with_the_csv_line_base() -> None:
    df = _weekly("a", 5)
    df.loc[3, "y"] = np.nan
    with pytest.raises(InvalidArgument, match=r"series 'a': missing, NaN .* rows 5\b"):
        build_panel(df, Frequency.WEEKLY, 2, row_base=2)


def test_dates_out_of_order_name_the_rows() -> None:
    df = _weekly("a", 5).iloc[[0, 1, 3, 2, 4]].reset_index(drop=True)
    with pytest.raises(InvalidArgument, match=r"series 'a': dates out of order at rows 3"):
        build_panel(df, Frequency.WEEKLY, 2)


def test_dates_off_the_grid_are_rejected() -> None:
    df = _weekly("a", 3)
    df.loc[1, "ds"] = pd.Timestamp("2024-01-09")  # a Tuesday
    with pytest.raises(InvalidArgument, match=r"not on the W-MON grid at rows 1.*Monday"):
        build_panel(df, Frequency.WEEKLY, 2)
    monthly = pd.DataFrame({"unique_id": "m", "ds": ["2024-01-01", "2024-02-15"], "y": [1, 2]})
    with pytest.raises(InvalidArgument, match="first of a month"):
        build_panel(monthly, Frequency.MONTHLY, 2)


def test_unknown_frequency_is_an_error_naming_the_field() -> None:
    with pytest.raises(InvalidArgument) as err:
        Frequency.parse("daily")
    assert err.value.field == "freq"
    assert infer_frequency(pd.Series(["2024-01-01", "2024-02-01"])) is Frequency.MONTHLY
    assert infer_frequency(pd.Series(["2024-01-08", "2024-01-15"])) is Frequency.WEEKLY
    with pytest.raises(InvalidArgument, match="cannot tell the frequency"):
        infer_frequency(pd.Series(["2024-01-09", "2024-01-17"]))


def test_gaps_are_zero_demand_and_reported() -> None:
    df = _weekly("a", 6).drop(index=[2, 3]).reset_index(drop=True)
    panel = build_panel(df, Frequency.WEEKLY, 2)
    assert panel.gaps == {"a": 2}
    np.testing.assert_array_equal(panel.series[0].y, [0, 1, 0, 0, 4, 5])
    assert len(panel.series[0].ds) == 6


def test_regressors_need_future_values_for_every_step() -> None:
    df = _weekly("a", 4, price_cny=[10.0, 10, 9, 9])
    with pytest.raises(InvalidArgument, match="price_cny are in the history") as err:
        build_panel(df, Frequency.WEEKLY, 2)
    assert err.value.field == "future"
    future = pd.DataFrame(
        {
            "unique_id": "a",
            "ds": pd.date_range("2024-01-29", periods=1, freq="W-MON"),
            "price_cny": [8.0],
        }
    )
    with pytest.raises(
        InvalidArgument, match=r"series 'a': future regressor values missing .*2024-02-05"
    ):
        build_panel(df, Frequency.WEEKLY, 2, future)
    future = pd.DataFrame(
        {
            "unique_id": "a",
            "ds": pd.date_range("2024-01-29", periods=2, freq="W-MON"),
            "price_cny": [8.0, 7.0],
        }
    )
    panel = build_panel(df, Frequency.WEEKLY, 2, future)
    assert panel.regressors == ("price_cny",)
    np.testing.assert_array_equal(panel.series[0].x_future[:, 0], [8.0, 7.0])
    fold = panel.series[0].truncated(3, 2)
    np.testing.assert_array_equal(fold.x_future[:, 0], [9.0])  # the observed next value


def test_levels_are_checked_and_sorted() -> None:
    assert check_levels([0.9, 0.1, 0.5, 0.5]) == (0.1, 0.5, 0.9)
    with pytest.raises(InvalidArgument, match=r"quantiles\[1\]"):
        check_levels([0.5, 1.0])
    with pytest.raises(InvalidArgument):
        build_panel(_weekly("a", 3), Frequency.WEEKLY, 0)


def test_calendar_puts_the_moving_spring_festival_in_its_week() -> None:
    weeks = pd.date_range("2025-01-20", periods=4, freq="W-MON")  # festival: 2025-01-29
    cal = calendar_features(weeks, Frequency.WEEKLY)
    assert list(cal.columns) == list(CALENDAR_FEATURES)
    assert cal["spring_festival"].tolist() == pytest.approx([0.0, 1.0, 2 / 7, 0.0])
    assert cal["pre_spring_festival"].iloc[0] == 1.0
    weeks_2026 = pd.date_range("2026-02-09", periods=3, freq="W-MON")  # festival: 2026-02-17
    assert calendar_features(weeks_2026, Frequency.WEEKLY)["spring_festival"].iloc[1] == 1.0
    months = pd.date_range("2024-09-01", periods=4, freq="MS")
    monthly = calendar_features(months, Frequency.MONTHLY)
    assert monthly["national_day"].tolist() == pytest.approx([0, 7 / 31, 0, 0])
    assert monthly["year_end"].iloc[3] == pytest.approx(16 / 31)


def test_quarterly_frequency_grid_parse_inference_and_features() -> None:
    from forecasting.model import ForecastSpec
    from forecasting.panel import future_dates
    from forecasting.xgb_features import CalendarTable, layout_for, period_numbers

    q = Frequency.QUARTERLY
    assert (q.value, q.season_length) == ("QS", 4)
    assert Frequency.parse("Q") is q and Frequency.parse("quarterly") is q
    assert infer_frequency(pd.Series(["2024-01-01", "2024-04-01", "2024-07-01"])) is q
    assert infer_frequency(pd.Series(["2024-01-01", "2024-02-01"])) is Frequency.MONTHLY
    assert infer_frequency(pd.Series(["2024-01-01"])) is Frequency.MONTHLY  # one date: ambiguous
    ds = pd.date_range("2023-01-01", periods=6, freq="QS")
    panel = build_panel(pd.DataFrame({"unique_id": "a", "ds": ds, "y": np.arange(6.0)}), q, 4)
    assert panel.series[0].ds.equals(ds)
    assert list(future_dates(ds[-1], q, 2)) == [
        pd.Timestamp("2024-07-01"),
        pd.Timestamp("2024-10-01"),
    ]
    gap = pd.DataFrame({"unique_id": "a", "ds": ds[[0, 2]], "y": [1.0, 2.0]})
    assert build_panel(gap, q, 1).gaps == {"a": 1}
    off = pd.DataFrame({"unique_id": "a", "ds": ["2024-01-01", "2024-02-01"], "y": [1, 2]})
    with pytest.raises(
        InvalidArgument, match=r"not on the QS grid at rows 1.*first day of a quarter"
    ):
        build_panel(off, q, 2)
    assert calendar_features(ds[3:4], q)["national_day"].iloc[0] == pytest.approx(7 / 92)
    numbers = period_numbers(ds, q)
    assert np.array_equal(np.diff(numbers), np.ones(5)) and numbers[0] == 4 * (2023 - 1970)
    table = CalendarTable(int(numbers[0]), int(numbers[-1]), q)
    assert table.values[:, 2].tolist() == [1, 2, 3, 4, 1, 2]  # season_position: the quarter
    assert layout_for(ForecastSpec(q, 4)).season_length == 4


def _two_series_with(defect: str) -> tuple[pd.DataFrame, str]:
    """Series a (rows 0-5) then b (rows 6-11), both carrying the same ``defect`` in two
    rows; returns the frame and the rows of series a the message must list (alone)."""
    df = pd.concat([_weekly("a", 6), _weekly("b", 6)], ignore_index=True)
    df["price"] = 1.0
    a_rows, b_rows = [2, 4], [7, 9]
    rows = [*a_rows, *b_rows]
    if defect == "y":
        df.loc[rows, "y"] = np.nan
    elif defect == "price":
        df.loc[rows, "price"] = np.nan
    elif defect == "grid":
        df.loc[rows, "ds"] = df.loc[rows, "ds"] + pd.Timedelta(days=1)
    elif defect == "order":  # swap rows 1<->2 and 3<->4 of each series
        order = list(range(12))
        for i in (1, 3, 7, 9):
            order[i], order[i + 1] = order[i + 1], order[i]
        df = df.iloc[order].reset_index(drop=True)
    elif defect == "duplicate":  # rows 2 and 4 of each series repeat the date before them
        df.loc[rows, "ds"] = df.loc[[r - 1 for r in rows], "ds"].to_numpy()
        return df, "1, 2, 3, 4"
    return df, ", ".join(str(r) for r in a_rows)


@pytest.mark.parametrize(
    ("defect", "words"),
    [
        ("y", "missing, NaN or non-numeric y"),
        ("price", "regressor missing or not a number"),
        ("grid", "date not on the W-MON grid"),
        ("order", "dates out of order"),
        ("duplicate", "duplicate (unique_id, ds)"),
    ],
)
def test_rows_listed_are_only_those_of_the_series_named(defect: str, words: str) -> None:
    df, rows = _two_series_with(defect)
    future = pd.DataFrame(
        {"unique_id": ["a", "b"], "ds": pd.Timestamp("2024-02-12"), "price": [1.0, 1.0]}
    )
    with pytest.raises(InvalidArgument) as err:
        build_panel(df, Frequency.WEEKLY, 1, future)
    message = str(err.value)
    assert f"series 'a': {words}" in message
    assert f"rows {rows};" in message or message.endswith(f"rows {rows}"), message


@pytest.mark.parametrize("blank", [np.nan, None, "", "  "])
def test_a_blank_unique_id_is_rejected_naming_the_rows(blank: object) -> None:
    df = pd.concat([_weekly("a", 4), _weekly("b", 4)], ignore_index=True)
    ids: list[object] = df["unique_id"].tolist()
    ids[1] = ids[6] = blank
    df["unique_id"] = pd.Series(ids, dtype=object)
    with pytest.raises(InvalidArgument, match=r"blank unique_id at rows 3, 8\b") as err:
        build_panel(df, Frequency.WEEKLY, 2, row_base=2)
    assert err.value.field == "unique_id"


def test_unparseable_or_blank_dates_name_the_rows() -> None:
    df = _weekly("a", 5)
    df["ds"] = df["ds"].dt.strftime("%Y-%m-%d").astype(object)
    df.loc[1, "ds"] = "2024-13-45"
    df.loc[3, "ds"] = None
    with pytest.raises(InvalidArgument, match=r"missing or not a date at rows 3, 5;") as err:
        build_panel(df, Frequency.WEEKLY, 2, row_base=2)
    assert err.value.field == "ds"

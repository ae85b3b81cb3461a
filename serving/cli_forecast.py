"""The forecasting commands of the ``turnwise`` command line.

turnwise forecast --input FILE.csv --horizon H [--freq W|MS] [--quantiles 0.1,0.5,0.9]
                  [--future FUTURE.csv] [--model ensemble] [--workers N] --output OUT.csv
                  [--report REPORT.csv]
                  [--attributes ATTRS.csv --levels 'total;region_id;brand_id,region_id'
                   [--reconcile mint|bu|ols|wls] [--borrow-from 'store_id,model_id;brand_id']]
turnwise backtest --input FILE.csv --horizon H [--freq W|MS] [--folds 3] [--models ...]
turnwise plot --input FILE.csv --forecast OUT.csv --series ID --output PLOT.png

The input is the long format (unique_id, ds, y, optional regressor columns); ``--future``
holds the regressors' values for the horizon (unique_id, ds, regressor columns); a backtest
needs no ``--future``, since each fold's held-out steps carry their regressors' values.
Errors name the file and the CSV line numbers; an empty or malformed file is one such error
(exit status 2), not a traceback.

With ``--attributes`` (one row per bottom series: unique_id and attribute columns) the
forecast covers every node of the hierarchy that ``--levels`` describes (``;`` between
levels, ``,`` between the columns of a crossed level, ``total`` for the grand total),
reconciled so that the means add up, with a ``level`` column in the output; an attribute
row with no history is a new series that borrows its siblings' average (see
``forecasting.reconciled``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from turnwise.errors import InvalidArgument

if TYPE_CHECKING:
    from forecasting.panel import Frequency, Panel

__all__ = ["add_commands"]

_CSV_LINE = 2  # row 0 of a frame read from a CSV with a header is line 2
_LONG = ("unique_id", "ds", "y")
_C_ERROR = "Error tokenizing data. C error: "
_RECONCILE = {"bu": "bottom-up", "ols": "ols", "wls": "wls-struct", "mint": "mint-shrink"}


def _model_names() -> list[str]:
    from forecasting.model import ModelName

    return [m.value for m in ModelName]


def add_commands(
    sub: argparse._SubParsersAction,  # type: ignore[type-arg]
) -> dict[str, Callable[[argparse.Namespace], None]]:
    """Add the forecasting sub-commands; returns their handlers by name."""
    models = _model_names()
    fc = sub.add_parser("forecast", help="forecast series from a long-format CSV")
    _common(fc)
    fc.add_argument("--quantiles", default="0.1,0.5,0.9", help="levels, comma-separated")
    fc.add_argument("--future", type=Path, help="future regressor values (CSV)")
    fc.add_argument("--model", default="ensemble", choices=models)
    fc.add_argument("--output", type=Path, required=True, help="forecast CSV to write")
    fc.add_argument("--report", type=Path, help="per-series report CSV (model, fallback, winner)")
    fc.add_argument("--attributes", type=Path, help="hierarchy: unique_id + attribute columns")
    fc.add_argument("--levels", help="hierarchy levels, e.g. 'total;region_id;brand_id,model_id'")
    fc.add_argument("--reconcile", default="mint", choices=sorted(_RECONCILE))
    fc.add_argument("--borrow-from", help="levels new series borrow from, in order (as --levels)")

    bt = sub.add_parser("backtest", help="rolling-origin backtest; prints the metrics table")
    _common(bt)
    bt.add_argument("--folds", type=int, default=3, help="rolling origins (default 3)")
    bt.add_argument(
        "--models",
        default="ensemble,seasonal-naive,ets,theta,xgboost",
        help=f"comma-separated, of: {', '.join(models)}",
    )
    bt.add_argument("--output", type=Path, help="also write the per-fold scores (CSV)")

    plot = sub.add_parser("plot", help="PNG of one series: history, forecast and interval")
    plot.add_argument("--input", type=Path, required=True, help="history CSV (long format)")
    plot.add_argument("--forecast", type=Path, required=True, help="CSV written by forecast")
    plot.add_argument("--series", required=True, help="unique_id of the series to draw")
    plot.add_argument("--output", type=Path, required=True, help="PNG to write")
    return {"forecast": _forecast, "backtest": _backtest, "plot": _plot}


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input", type=Path, required=True, help="long-format CSV: unique_id, ds, y")
    p.add_argument("--horizon", type=int, required=True, help="steps ahead")
    p.add_argument("--freq", help="W (weekly, Mondays) or MS (monthly); default: from the dates")
    p.add_argument("--workers", type=int, default=1, help="Ray workers (1 = no Ray)")
    p.add_argument("--seed", type=int, default=0)


def _read_csv(
    path: Path, what: str, required: Sequence[str] = (), layout: str = ""
) -> pd.DataFrame:
    """``path`` read with unique_id as text. A file that cannot be read as a CSV, or one
    without a ``required`` column (``layout`` says which columns belong), is an error
    naming the file; a ``ds`` column among ``required`` is parsed, blank or unparseable
    dates an error naming their CSV lines."""
    from forecasting.panel import parse_dates

    if not path.is_file():
        raise InvalidArgument(what, f"no such file: {path}")
    try:
        df = pd.read_csv(path, dtype={"unique_id": str})
    except pd.errors.EmptyDataError:
        raise InvalidArgument(
            str(path), "empty file; the first line must name the columns"
        ) from None
    except pd.errors.ParserError as exc:
        text = " ".join(str(exc).split()).removeprefix(_C_ERROR)
        raise InvalidArgument(str(path), f"not a valid CSV: {text}") from None
    except UnicodeDecodeError as exc:
        raise InvalidArgument(
            str(path), f"not UTF-8 text ({exc.reason}); save it as a UTF-8 CSV"
        ) from None
    except OSError as exc:
        raise InvalidArgument(str(path), f"cannot read: {exc.strerror or exc}") from None
    for column in required:
        if column not in df.columns:
            raise InvalidArgument(str(path), f"missing column {column!r}; {layout}")
    if "ds" in required:
        df["ds"] = parse_dates(df["ds"], f"{path}: ds", _CSV_LINE)
    return df


def _read_history(path: Path) -> pd.DataFrame:
    return _read_csv(path, "--input", _LONG, "the long format is unique_id, ds, y")


def _held_out_future(df: pd.DataFrame, freq: Frequency, horizon: int) -> pd.DataFrame | None:
    """For a backtest of a history with regressors: each series' last regressor values
    carried over the ``horizon`` dates after it. They only let ``build_panel`` accept the
    regressors: every fold forecasts with the regressors observed in its held-out steps
    (``SeriesData.truncated``), and a backtest never forecasts past the history."""
    from forecasting.panel import future_dates

    regressors = [c for c in df.columns if c not in _LONG]
    if not regressors or df.empty:
        return None
    last = df.loc[
        df.groupby("unique_id", sort=False)["ds"].idxmax(), ["unique_id", "ds", *regressors]
    ]
    rows = [
        {**row, "ds": ds}
        for row in last.to_dict("records")
        for ds in future_dates(pd.Timestamp(row["ds"]), freq, horizon)
    ]
    return pd.DataFrame(rows, columns=last.columns)


def _panel(args: argparse.Namespace, future: Path | None = None, backtest: bool = False) -> Panel:
    from forecasting.panel import Frequency, build_panel, infer_frequency

    df = _read_history(args.input)
    freq = Frequency.parse(args.freq, "--freq") if args.freq else infer_frequency(df["ds"])
    if backtest:
        fut = _held_out_future(df, freq, args.horizon)
    elif future:
        layout = "the future regressors are unique_id, ds and the regressor columns"
        fut = _read_csv(future, "--future", ("unique_id", "ds"), layout)
    else:
        fut = None
    return build_panel(df, freq, args.horizon, fut, row_base=_CSV_LINE)


def _levels(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InvalidArgument("--quantiles", f"not a list of numbers: {text!r}") from None


def _progress(done: int, total: int, message: str) -> None:
    print(f"\r{message}: {done}/{total}", end="", file=sys.stderr, flush=True)


def _parse_levels(text: str, option: str) -> list[list[str]]:
    levels = []
    for part in text.split(";"):
        cols = [c.strip() for c in part.split(",") if c.strip()]
        if not cols:
            raise InvalidArgument(option, f"an empty level in {text!r}")
        levels.append([] if cols == ["total"] else cols)
    return levels


def _forecast_hierarchy(args: argparse.Namespace) -> None:
    from forecasting.backend import make_backend
    from forecasting.forecaster import ForecastConfig
    from forecasting.hierarchy import ReconcileMethod
    from forecasting.model import ModelName
    from forecasting.panel import Frequency, infer_frequency
    from forecasting.reconciled import forecast_hierarchy

    start = time.perf_counter()
    if args.future:
        raise InvalidArgument("--future", "hierarchical forecasts take no regressors")
    if not args.levels:
        raise InvalidArgument("--levels", "required with --attributes")
    history = _read_history(args.input)
    freq = Frequency.parse(args.freq, "--freq") if args.freq else infer_frequency(history["ds"])
    result = forecast_hierarchy(
        history,
        _read_csv(
            args.attributes,
            "--attributes",
            ("unique_id",),
            "one row per bottom series, with its attributes",
        ),
        _parse_levels(args.levels, "--levels"),
        freq,
        args.horizon,
        _levels(args.quantiles),
        ReconcileMethod(_RECONCILE[args.reconcile]),
        ForecastConfig(model=ModelName(args.model), seed=args.seed, xgb_threads=args.workers),
        make_backend(args.workers),
        _progress,
        borrow_from=_parse_levels(args.borrow_from, "--borrow-from") if args.borrow_from else None,
        row_base=_CSV_LINE,
    )
    print(file=sys.stderr)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    result.to_frame().to_csv(args.output, index=False, date_format="%Y-%m-%d")
    if args.report:
        result.base.report_frame().to_csv(args.report, index=False)
    h = result.hierarchy
    print(
        f"forecast {h.n_nodes} nodes ({h.n_bottom} bottom series) x {args.horizon} steps, "
        f"reconciled by {result.method.value}, in {time.perf_counter() - start:.1f} s "
        f"-> {args.output}"
    )
    for uid, node in sorted(result.borrowed.items())[:10]:
        print(f"  new series {uid}: borrowed from {node}")
    for f in result.base.fallbacks[:10]:
        print(f"  fallback {f.unique_id}: {f.fallback_reason}")


def _forecast(args: argparse.Namespace) -> None:
    from forecasting.backend import make_backend
    from forecasting.forecaster import ForecastConfig, forecast
    from forecasting.model import ModelName

    if args.attributes:
        _forecast_hierarchy(args)
        return
    start = time.perf_counter()
    panel = _panel(args, args.future)
    config = ForecastConfig(model=ModelName(args.model), seed=args.seed, xgb_threads=args.workers)
    result = forecast(panel, _levels(args.quantiles), config, make_backend(args.workers), _progress)
    print(file=sys.stderr)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    result.to_frame().to_csv(args.output, index=False, date_format="%Y-%m-%d")
    if args.report:
        result.report_frame().to_csv(args.report, index=False)
    print(
        f"forecast {len(panel)} series x {panel.horizon} steps in "
        f"{time.perf_counter() - start:.1f} s -> {args.output}"
    )
    for demand, weights in result.ensembles.items():
        if weights.entries:
            members = ", ".join(f"{m.value} {w:.2f}" for m, w in weights.weights.items())
            print(f"  {demand.value}: {members} (interval x{weights.interval_scale:.2f})")
    if result.gaps:
        print(f"  {len(result.gaps)} series had missing dates, filled with 0")
    for f in result.fallbacks[:10]:
        print(f"  fallback {f.unique_id}: {f.fallback_reason}")
    if len(result.fallbacks) > 10:
        print(f"  ... {len(result.fallbacks) - 10} more fallbacks (see --report)")


def _backtest(args: argparse.Namespace) -> None:
    from forecasting.backend import make_backend
    from forecasting.evaluation import FoldScore, evaluate, scores_frame
    from forecasting.forecaster import ForecastConfig
    from forecasting.model import ModelName

    panel = _panel(args, backtest=True)
    try:
        models = [ModelName(m.strip()) for m in args.models.split(",") if m.strip()]
    except ValueError as exc:
        raise InvalidArgument(
            "--models", f"{exc}; choose from {', '.join(_model_names())}"
        ) from None

    def on_fold(row: FoldScore) -> None:
        print(f"fold {row.fold} {row.model.value}: wape {row.scores.wape:.4f}", file=sys.stderr)

    config = ForecastConfig(seed=args.seed, xgb_threads=args.workers)
    rows = evaluate(
        panel,
        models,
        args.folds,
        config=config,
        backend=make_backend(args.workers),
        on_fold=on_fold,
    )
    table = scores_frame(rows)
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))
    if args.output:
        pd.DataFrame(
            [{"model": r.model.value, "fold": r.fold, **r.scores.__dict__} for r in rows]
        ).to_csv(args.output, index=False)


def _plot(args: argparse.Namespace) -> None:
    from forecasting.plot import plot_series

    out = plot_series(
        _read_csv(args.input, "--input"),
        _read_csv(args.forecast, "--forecast"),
        args.series,
        args.output,
    )
    print(f"wrote {out}")

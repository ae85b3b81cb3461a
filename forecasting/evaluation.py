"""Rolling-origin evaluation of whole forecast runs: the ``turnwise backtest`` table and the
accuracy rows of the ``forecast`` benchmark.

``evaluate`` cuts every series ``h * i`` steps before its end (``i = 1..folds``), runs the
full forecaster on what comes before (so the ensemble picks its weights without seeing the
held-out steps: the evaluation is nested and honest) for each requested model, and scores
the forecasts on the held-out steps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting import metrics
from forecasting.backend import Backend
from forecasting.backtest import MIN_TRAIN, series_scale
from forecasting.forecaster import ForecastConfig, ForecastResult, forecast
from forecasting.model import ModelName
from forecasting.panel import DEFAULT_LEVELS, Panel

__all__ = ["FoldScore", "Scores", "evaluate", "score", "scores_frame", "truncate_panel"]


@dataclass(frozen=True)
class Scores:
    """Accuracy of one model on a set of held-out forecasts. ``wape`` pools every series
    and step; ``mase`` and ``smape`` (percent, M4) are means over series; ``pinball`` is
    the mean scaled by each series' MASE scale; ``coverage`` is the share of actuals inside
    the outermost interval of the levels (the 0.1-0.9 band = an 80% interval)."""

    wape: float
    mase: float
    smape: float
    pinball: float
    coverage: float
    series: int


@dataclass(frozen=True)
class FoldScore:
    model: ModelName
    fold: int
    scores: Scores
    fallbacks: int


def truncate_panel(panel: Panel, steps_back: int) -> tuple[Panel, dict[str, np.ndarray]]:
    """The panel cut ``steps_back`` steps before each series' end, and the ``horizon``
    actuals after each cut; series too short to cut are left out."""
    h = panel.horizon
    kept, actuals = [], {}
    for s in panel.series:
        cut = len(s) - steps_back
        if cut < MIN_TRAIN:
            continue
        kept.append(s.truncated(cut, h))
        actuals[s.unique_id] = s.y[cut : cut + h]
    return Panel(panel.freq, h, tuple(kept), panel.regressors), actuals


def score(
    result: ForecastResult,
    actuals: dict[str, np.ndarray],
    insample: dict[str, np.ndarray],
    season_length: int,
) -> Scores:
    """Scores of ``result`` against ``actuals`` (MASE scaled on ``insample`` with lag
    ``season_length``, or 1 when the history is shorter than a season)."""
    levels = result.spec.levels
    lo, hi = 0, len(levels) - 1
    abs_err = total = 0.0
    mase, smape, pinball, inside, steps = [], [], [], 0, 0
    for f in result.forecasts:
        y = actuals[f.unique_id][: len(f.mean)]
        n = len(y)
        if n == 0:
            continue
        history = insample[f.unique_id]
        lag = season_length if len(history) > season_length else 1
        abs_err += float(np.sum(np.abs(y - f.mean[:n])))
        total += float(np.sum(np.abs(y)))
        mase.append(metrics.mase(y, f.mean[:n], history, lag))
        smape.append(metrics.smape(y, f.mean[:n]))
        scale = series_scale(history, season_length)
        pinball.append(metrics.pinball(y, f.quantiles[:n], levels) / scale)
        inside += int(np.sum((y >= f.quantiles[:n, lo]) & (y <= f.quantiles[:n, hi])))
        steps += n
    finite = [m for m in mase if np.isfinite(m)]
    return Scores(
        wape=abs_err / total if total else float("nan"),
        mase=float(np.mean(finite)) if finite else float("nan"),
        smape=float(np.mean(smape)) if smape else float("nan"),
        pinball=float(np.mean(pinball)) if pinball else float("nan"),
        coverage=inside / steps if steps else float("nan"),
        series=len(smape),
    )


def evaluate(
    panel: Panel,
    models: Sequence[ModelName] = (ModelName.ENSEMBLE,),
    folds: int = 3,
    levels: Sequence[float] = DEFAULT_LEVELS,
    config: ForecastConfig | None = None,
    backend: Backend | None = None,
    on_fold: Callable[[FoldScore], None] | None = None,
) -> list[FoldScore]:
    """Nested rolling-origin evaluation of each model; one ``FoldScore`` per model and fold
    (fold 1 = the most recent ``horizon`` steps)."""
    config = config or ForecastConfig()
    out = []
    for i in range(1, folds + 1):
        train, actuals = truncate_panel(panel, panel.horizon * i)
        insample = {s.unique_id: s.y for s in train.series}
        for model in models:
            cfg = dataclasses.replace(config, model=model)
            result = forecast(train, levels, cfg, backend)
            row = FoldScore(
                model,
                i,
                score(result, actuals, insample, panel.freq.season_length),
                len(result.fallbacks),
            )
            out.append(row)
            if on_fold is not None:
                on_fold(row)
    return out


def scores_frame(rows: Sequence[FoldScore]) -> pd.DataFrame:
    """One row per model: the scores averaged over folds (the backtest table)."""
    frame = pd.DataFrame(
        [
            {"model": r.model.value, "fold": r.fold, **r.scores.__dict__, "fallbacks": r.fallbacks}
            for r in rows
        ]
    )
    return frame.groupby("model", sort=False).mean(numeric_only=True).drop(columns="fold")

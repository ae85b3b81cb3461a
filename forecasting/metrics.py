"""Point and probabilistic forecast accuracy: pure numpy functions.

Definitions follow the M4 competition (Makridakis, Spiliotis & Assimakopoulos, IJF 2020):
``smape`` is in percent, ``mase`` is scaled by the in-sample mean absolute lag-``m``
difference (M4 used ``m = 1`` for weekly data), and ``owa`` is the mean of the two ratios to
the Naive2 benchmark. Each function takes the actuals and forecasts of one series (1-D) or
of several series of equal length (2-D, one row per series) where its docstring says so,
and returns a Python float.

Zero denominators are answered the same way everywhere, following IEEE division: an exact
forecast of nothing (0 / 0) is ``nan`` ("undefined", never silently perfect) and a non-zero
error over a zero denominator is ``inf``. Aggregators skip non-finite values explicitly.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from turnwise.errors import InvalidArgument

__all__ = ["coverage", "mase", "owa", "pinball", "smape", "wape"]


def _pair(
    actual: ArrayLike, forecast: ArrayLike, name: str = "forecast"
) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(actual, dtype=float)
    f = np.asarray(forecast, dtype=float)
    if y.shape != f.shape:
        raise InvalidArgument(name, f"shape {f.shape} does not match the actuals' {y.shape}")
    if y.size == 0:
        raise InvalidArgument("actual", "no values to score")
    return y, f


def _ratio(num: float, den: float) -> float:
    """``num / den`` with 0/0 -> nan and x/0 -> inf (``num >= 0``)."""
    if den > 0:
        return num / den
    return float("nan") if num == 0 else float("inf")


def wape(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Weighted absolute percentage error ``sum|y - f| / sum|y|`` over every value passed
    (any shape: pooling all series and steps). A fraction, not percent. All-zero actuals
    give ``nan`` when the forecast is exact too and ``inf`` otherwise."""
    y, f = _pair(actual, forecast)
    return _ratio(float(np.sum(np.abs(y - f))), float(np.sum(np.abs(y))))


def smape(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Symmetric MAPE of M4, in percent: the mean over steps of ``200 |y - f| / (|y| + |f|)``;
    a step where both are zero counts 0 (a perfect forecast). For 2-D input (one row per
    series, equal lengths) this is also the M4 mean over series of each series' sMAPE."""
    y, f = _pair(actual, forecast)
    den = np.abs(y) + np.abs(f)
    safe = np.where(den > 0, den, 1.0)
    return float(np.mean(np.where(den > 0, 200.0 * np.abs(y - f) / safe, 0.0)))


def mase(actual: ArrayLike, forecast: ArrayLike, insample: ArrayLike, m: int = 1) -> float:
    """Mean absolute scaled error of one series: ``mean|y - f|`` over the forecast steps
    divided by ``mean|x[t] - x[t - m]|`` over the in-sample history ``x``.

    A history with no lag-``m`` difference (``len(insample) <= m``) has no scale: ``nan``.
    A constant history (scale 0) gives ``nan`` for an exact forecast and ``inf`` otherwise,
    as documented for the module; the caller decides whether to skip or fall back."""
    y, f = _pair(actual, forecast)
    if y.ndim != 1:
        raise InvalidArgument("actual", "mase scores one series: pass 1-D arrays")
    if m < 1:
        raise InvalidArgument("m", f"seasonal lag must be >= 1, got {m}")
    x = np.asarray(insample, dtype=float)
    if x.ndim != 1 or len(x) <= m:
        return float("nan")
    scale = float(np.mean(np.abs(x[m:] - x[:-m])))
    return _ratio(float(np.mean(np.abs(y - f))), scale)


def pinball(actual: ArrayLike, quantiles: ArrayLike, levels: ArrayLike) -> float:
    """Mean pinball (quantile) loss over steps and levels, in the units of ``y``.

    ``actual`` has shape (h,), ``quantiles`` (h, L) with one column per level of ``levels``
    (shape (L,), each in (0, 1)). The loss of level ``q`` at one step is
    ``q (y - f)`` when ``y >= f`` and ``(1 - q)(f - y)`` otherwise."""
    y = np.asarray(actual, dtype=float)
    qs = np.asarray(quantiles, dtype=float)
    lv = np.asarray(levels, dtype=float)
    if y.ndim != 1 or qs.shape != (len(y), len(lv)):
        raise InvalidArgument(
            "quantiles",
            f"shape {qs.shape} must be (len(actual), len(levels)) = ({len(y)}, {len(lv)})",
        )
    if y.size == 0 or lv.size == 0:
        raise InvalidArgument("actual", "no values to score")
    diff = y[:, None] - qs
    return float(np.mean(np.maximum(lv * diff, (lv - 1.0) * diff)))


def coverage(actual: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> float:
    """Share of actuals inside the closed interval ``[lower, upper]`` (any shape)."""
    y, lo = _pair(actual, lower, "lower")
    _, hi = _pair(actual, upper, "upper")
    return float(np.mean((y >= lo) & (y <= hi)))


def owa(smape_: float, mase_: float, smape_naive2: float, mase_naive2: float) -> float:
    """Overall weighted average of M4: ``(sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2) / 2``.
    1.0 is as good as Naive2; lower is better."""
    if smape_naive2 <= 0 or mase_naive2 <= 0:
        raise InvalidArgument("smape_naive2", "the Naive2 scores must be > 0")
    return 0.5 * (smape_ / smape_naive2 + mase_ / mase_naive2)

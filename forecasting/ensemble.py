"""Ensemble weights from rolling-origin backtests, and the combination itself.

For one group of series (a demand class), every candidate member has forecast every
(series, fold) of the backtest. ``fit_weights`` scores each member by its mean scaled MAE
(MASE-like, so large and small series count alike), then tries every subset of members with
weights inversely proportional to those scores and keeps the subset whose combined forecast
has the lowest backtest error (a single member is a subset too, so the ensemble is never
chosen worse than its best member on the folds). The interval width is then calibrated on
the same folds: the combined quantiles are stretched about their centre by the factor that
minimises the pinball loss.

The combination averages the members' means and, level by level, their quantiles
(quantile averaging), then applies the width factor.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from forecasting.model import ModelName, PointForecast, finalize

__all__ = ["EnsembleWeights", "FoldEntry", "combine", "fit_weights"]

_SCALES = np.round(np.arange(0.4, 3.01, 0.05), 2)


@dataclass(frozen=True)
class FoldEntry:
    """One (series, fold) of a backtest: the actuals, the series' error scale and each
    member's forecast."""

    actual: np.ndarray
    scale: float
    forecasts: Mapping[ModelName, PointForecast]


@dataclass(frozen=True)
class EnsembleWeights:
    """The chosen members and weights (summing to 1), the interval width factor, and the
    backtest evidence: each member's and the ensemble's mean scaled MAE."""

    weights: Mapping[ModelName, float]
    interval_scale: float
    member_error: Mapping[ModelName, float]
    ensemble_error: float
    entries: int

    @staticmethod
    def only(model: ModelName) -> EnsembleWeights:
        """All weight on one member, no backtest evidence (too little history)."""
        return EnsembleWeights({model: 1.0}, 1.0, {}, float("nan"), 0)


def _center_index(levels: Sequence[float]) -> int | None:
    return levels.index(0.5) if 0.5 in levels else None


def _blend(
    forecasts: Mapping[ModelName, PointForecast], weights: Mapping[ModelName, float]
) -> tuple[np.ndarray, np.ndarray]:
    total = sum(weights[m] for m in weights if m in forecasts)
    mean = sum(weights[m] / total * forecasts[m].mean for m in weights if m in forecasts)
    quant = sum(weights[m] / total * forecasts[m].quantiles for m in weights if m in forecasts)
    return np.asarray(mean, dtype=float), np.asarray(quant, dtype=float)


def _stretch(mean: np.ndarray, quant: np.ndarray, levels: Sequence[float], s: float) -> np.ndarray:
    center_at = _center_index(levels)
    center = quant[:, center_at] if center_at is not None else mean
    stretched: np.ndarray = center[:, None] + s * (quant - center[:, None])
    return stretched


def combine(
    forecasts: Mapping[ModelName, PointForecast],
    weights: EnsembleWeights,
    levels: Sequence[float],
    nonnegative: bool,
) -> PointForecast:
    """The weighted combination of the members present in ``forecasts`` (weights of the
    missing ones are shared out among the others)."""
    present = {m: w for m, w in weights.weights.items() if m in forecasts}
    if not present:
        raise ValueError("no member of the ensemble produced a forecast")
    mean, quant = _blend(forecasts, present)
    return finalize(mean, _stretch(mean, quant, levels, weights.interval_scale), nonnegative)


@dataclass(frozen=True)
class _Stack:
    """The entries as arrays: actual (E, h), scale (E, 1), per member mean (E, h) and
    quantiles (E, h, L)."""

    actual: np.ndarray
    scale: np.ndarray
    mean: dict[ModelName, np.ndarray]
    quant: dict[ModelName, np.ndarray]

    @staticmethod
    def of(entries: Sequence[FoldEntry], candidates: Sequence[ModelName]) -> _Stack:
        return _Stack(
            np.stack([e.actual for e in entries]),
            np.array([[e.scale] for e in entries]),
            {m: np.stack([e.forecasts[m].mean for e in entries]) for m in candidates},
            {m: np.stack([e.forecasts[m].quantiles for e in entries]) for m in candidates},
        )

    def blend(self, weights: Mapping[ModelName, float]) -> tuple[np.ndarray, np.ndarray]:
        mean = sum(w * self.mean[m] for m, w in weights.items())
        quant = sum(w * self.quant[m] for m, w in weights.items())
        return np.asarray(mean), np.asarray(quant)

    def mae(self, weights: Mapping[ModelName, float]) -> float:
        mean, _ = self.blend(weights)
        return float(np.mean(np.abs(self.actual - mean) / self.scale))

    def pinball(
        self, weights: Mapping[ModelName, float], levels: Sequence[float], s: float, clip: bool
    ) -> float:
        mean, quant = self.blend(weights)
        at = _center_index(levels)
        center = quant[..., at] if at is not None else mean
        q = center[..., None] + s * (quant - center[..., None])
        if clip:
            q = np.clip(q, 0.0, None)
        diff = self.actual[..., None] - q
        lv = np.asarray(levels)
        loss = np.maximum(lv * diff, (lv - 1.0) * diff) / self.scale[..., None]
        return float(np.mean(loss))


def fit_weights(
    entries: Sequence[FoldEntry],
    candidates: Sequence[ModelName],
    levels: Sequence[float],
    nonnegative: bool = True,
    max_members: int = 4,
) -> EnsembleWeights:
    """Choose members, weights and the interval factor on the backtest ``entries`` (every
    entry must hold a forecast of every candidate)."""
    if not entries:
        raise ValueError("no backtest entries to fit ensemble weights on")
    stack = _Stack.of(entries, candidates)
    member_error = {m: stack.mae({m: 1.0}) for m in candidates}
    inverse = {m: 1.0 / max(err, 1e-9) for m, err in member_error.items()}
    best: tuple[float, dict[ModelName, float]] | None = None
    for size in range(1, min(max_members, len(candidates)) + 1):
        for subset in itertools.combinations(candidates, size):
            total = sum(inverse[m] for m in subset)
            weights = {m: inverse[m] / total for m in subset}
            err = stack.mae(weights)
            if best is None or err < best[0] - 1e-12:
                best = (err, weights)
    assert best is not None
    error, weights = best
    scale = min(_SCALES, key=lambda s: stack.pinball(weights, levels, float(s), nonnegative))
    return EnsembleWeights(weights, float(scale), member_error, error, len(entries))

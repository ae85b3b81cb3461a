"""Cross-validated quality of the conversion scorer against a logistic-regression baseline.

``cross_validate(frame, target, folds, seed)`` splits the rows into ``folds`` stratified
folds (shuffled with ``seed``) and, on the same folds, fits on all folds but one and scores
the held-out fold with

- the calibrated XGBoost scorer (``lead_routing.scoring.fit_scorer``; its calibration is
  chosen inside each training part, never on the held-out fold), also reported before
  calibration (the booster's own probabilities);
- the baseline: logistic regression (L2, C = 1) on one-hot categoricals (the same levels as
  the scorer's schema; missing, rare and unseen values share an all-zero code) and
  standardised numerics (missing values imputed with the training median, plus a 0/1
  missing indicator per numeric column that has missing values).

Each model gets the ROC AUC and Brier score of every held-out fold and their means. The
function is pure: same frame, target, folds, seed and params, same report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from lead_routing.scoring import CalibrationMethod, ScorerParams, fit_scorer
from lead_routing.scoring_schema import FeatureSchema, as_target
from turnwise.errors import InvalidArgument

__all__ = ["CrossValidationReport", "ModelScores", "cross_validate", "fit_logistic_baseline"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ModelScores:
    """Held-out ROC AUC and Brier score of one model, per fold and averaged."""

    model: str
    auc: tuple[float, ...]
    brier: tuple[float, ...]
    mean_auc: float
    mean_brier: float

    @classmethod
    def of(cls, model: str, auc: Sequence[float], brier: Sequence[float]) -> ModelScores:
        return cls(
            model,
            tuple(float(v) for v in auc),
            tuple(float(v) for v in brier),
            float(np.mean(auc)),
            float(np.mean(brier)),
        )


@dataclass(frozen=True)
class CrossValidationReport:
    """The scores of the calibrated XGBoost scorer, its uncalibrated booster and the
    logistic-regression baseline on the same folds."""

    folds: int
    seed: int
    rows: int
    positive_rate: float
    xgboost: ModelScores
    xgboost_uncalibrated: ModelScores
    logistic: ModelScores
    calibration: tuple[CalibrationMethod, ...]
    """The calibration each fold's scorer chose."""


def cross_validate(
    frame: pd.DataFrame,
    target: object,
    folds: int = 5,
    seed: int = 0,
    params: ScorerParams | None = None,
    *,
    categorical: Sequence[str] | None = None,
) -> CrossValidationReport:
    """Stratified ``folds``-fold AUC and Brier score of the calibrated XGBoost scorer and
    of the logistic-regression baseline (see the module docstring)."""
    if len(frame) == 0:
        raise InvalidArgument("frame", "is empty; cross-validation needs rows")
    y = as_target(target, len(frame))
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise InvalidArgument("folds", f"must be an integer >= 2, got {folds!r}")
    if min(int(y.sum()), int(len(y) - y.sum())) < folds:
        raise InvalidArgument("target", f"needs at least {folds} rows of each class")
    params = params or ScorerParams(seed=seed)
    frame = frame.reset_index(drop=True)
    scores: dict[str, tuple[list[float], list[float]]] = {
        name: ([], []) for name in ("xgboost", "uncalibrated", "logistic")
    }
    methods: list[CalibrationMethod] = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(np.zeros(len(y)), y):
        fit_part, held_out, y_test = frame.iloc[train], frame.iloc[test], y[test]
        scorer = fit_scorer(fit_part, y[train], params, categorical=categorical)
        methods.append(scorer.summary.calibration)
        baseline = fit_logistic_baseline(fit_part, y[train], scorer.schema)
        for name, p in (
            ("xgboost", scorer.predict_proba(held_out)),
            ("uncalibrated", scorer.predict_uncalibrated(held_out)),
            ("logistic", _logistic_proba(baseline, held_out, scorer.schema)),
        ):
            scores[name][0].append(float(roc_auc_score(y_test, p)))
            scores[name][1].append(float(brier_score_loss(y_test, p)))
    return CrossValidationReport(
        folds=folds,
        seed=seed,
        rows=len(y),
        positive_rate=float(y.mean()),
        xgboost=ModelScores.of("xgboost_calibrated", *scores["xgboost"]),
        xgboost_uncalibrated=ModelScores.of("xgboost_uncalibrated", *scores["uncalibrated"]),
        logistic=ModelScores.of("logistic_regression", *scores["logistic"]),
        calibration=tuple(methods),
    )


def fit_logistic_baseline(frame: pd.DataFrame, target: object, schema: FeatureSchema) -> Pipeline:
    """The baseline: logistic regression on ``schema``'s columns of ``frame``, one-hot
    categoricals and standardised numerics (see the module docstring)."""
    y = as_target(target, len(frame))
    numeric = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        StandardScaler(),
    )
    used = [k for k, levels in enumerate(schema.levels) if levels]
    encoder = OneHotEncoder(
        categories=[list(schema.levels[k]) for k in used], handle_unknown="ignore"
    )
    parts: list[tuple[str, Any, list[str]]] = []
    if schema.numeric:
        parts.append(("numeric", numeric, [f"n{j}" for j in range(len(schema.numeric))]))
    if used:
        parts.append(("categorical", encoder, [f"c{k}" for k in used]))
    if not parts:
        raise InvalidArgument("frame", "has no usable feature for the baseline")
    model = Pipeline(
        [("columns", ColumnTransformer(parts)), ("logistic", LogisticRegression(max_iter=2000))]
    )
    model.fit(_baseline_input(frame, schema), y)
    return model


def _logistic_proba(model: Pipeline, frame: pd.DataFrame, schema: FeatureSchema) -> FloatArray:
    return np.asarray(model.predict_proba(_baseline_input(frame, schema))[:, 1], dtype=np.float64)


def _baseline_input(frame: pd.DataFrame, schema: FeatureSchema) -> pd.DataFrame:
    """The scorer's encoding turned back into values: numerics as floats (``n<j>``),
    categoricals as their level names (``c<k>``; ``None`` where missing, rare or unseen,
    which the one-hot encoder leaves all zero)."""
    encoded = schema.encode(frame)
    columns: dict[str, npt.NDArray[Any]] = {
        f"n{j}": encoded[:, j] for j in range(len(schema.numeric))
    }
    for k, levels in enumerate(schema.levels):
        codes = encoded[:, len(schema.numeric) + k]
        names = np.array([*levels, None], dtype=object)
        index = np.where(np.isnan(codes), len(levels), np.nan_to_num(codes)).astype(np.int64)
        columns[f"c{k}"] = names[index]
    return pd.DataFrame(columns)

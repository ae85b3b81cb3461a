"""The conversion scorer's settings: ``ScorerParams`` (booster, calibration and monotone
constraints, validated when built) and ``CalibrationMethod``; ``lead_routing.scoring``
fits and saves scorers with them."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from lead_routing.scoring_schema import FeatureSchema
from turnwise.errors import InvalidArgument

__all__ = ["CalibrationMethod", "ScorerParams"]


class CalibrationMethod(enum.Enum):
    """How booster margins become probabilities."""

    PLATT = "platt"
    ISOTONIC = "isotonic"


@dataclass(frozen=True)
class ScorerParams:
    """Booster and calibration settings. Validated when built.

    The defaults (depth 3, ``min_child_weight`` 5) were picked by 5-fold AUC among six
    settings on the demo group and X Education: leaves of at least five units of hessian
    (about 90 leads at a 6% conversion rate) stop the booster from chasing the few
    positives of rare models and hours. Depth 4 with ``min_child_weight`` 1 scored 0.731
    against 0.747 on the 60-store demo group, 0.723 against 0.734 on an 8-store one, and
    0.912 against 0.911 on X Education.

    ``increasing``: numeric features the score may only rise with, all else equal (XGBoost
    monotone constraints), where the frame has them: a more senior advisor, or one with a
    better smoothed conversion rate, is never scored lower. Unconstrained, the booster
    learnt the advisor effect in a few shallow, shrunk trees: on the demo group (60 stores,
    seed 1) the log of its scores across one lead's candidate advisors correlated 0.77
    with the log of the true level factor, with slope 0.49; constrained 0.86 and 0.52, at
    the same AUC (0.7509 against 0.7515), and routing on those scores gained 1-2 points of
    expected conversions in the replayed stream. With Platt calibration the same columns
    are the map's lift columns (``scoring_calibration.CalibrationMap``): their effect is
    re-estimated on the out-of-fold margins, with coefficients >= 0. ``()`` turns both off.
    """

    n_estimators: int = 300
    """The most boosting rounds; with ``select_rounds`` the fit keeps the number of rounds
    whose out-of-fold log loss is lowest."""
    select_rounds: bool = True
    learning_rate: float = 0.05
    max_depth: int = 3
    min_child_weight: float = 5.0
    subsample: float = 0.8
    colsample_bytree: float = 0.8
    reg_lambda: float = 1.0
    min_level_rows: int = 5
    calibration_folds: int = 5
    isotonic_min_class_rows: int = 500
    calibration: CalibrationMethod | None = None
    seed: int = 0
    nthread: int = 1
    increasing: tuple[str, ...] = ("advisor_level", "advisor_conversion_rate")

    def __post_init__(self) -> None:
        names = self.increasing
        if not (isinstance(names, tuple) and all(isinstance(n, str) and n for n in names)):
            raise InvalidArgument("increasing", f"must be a tuple of column names, got {names!r}")
        for name, least in (
            ("n_estimators", 1),
            ("max_depth", 1),
            ("min_level_rows", 1),
            ("calibration_folds", 2),
            ("isotonic_min_class_rows", 1),
            ("nthread", 1),
            ("seed", 0),
        ):
            count = getattr(self, name)
            if isinstance(count, bool) or not isinstance(count, int) or count < least:
                raise InvalidArgument(name, f"must be an integer >= {least}, got {count!r}")
        for name, lo, hi in (
            ("learning_rate", 0.0, 1.0),
            ("subsample", 0.0, 1.0),
            ("colsample_bytree", 0.0, 1.0),
        ):
            share = float(getattr(self, name))
            if not lo < share <= hi:
                raise InvalidArgument(name, f"must be within ({lo}, {hi}], got {share}")
        for name in ("min_child_weight", "reg_lambda"):
            if not float(getattr(self, name)) >= 0.0:
                raise InvalidArgument(name, f"must be >= 0, got {getattr(self, name)}")
        if self.calibration is not None and not isinstance(self.calibration, CalibrationMethod):
            raise InvalidArgument("calibration", "must be a CalibrationMethod or None (choose)")

    def booster_params(self, schema: FeatureSchema) -> dict[str, Any]:
        """XGBoost's parameters for a booster over ``schema``'s columns."""
        wrong = [c for c in self.increasing if c in schema.categorical]
        if wrong:
            raise InvalidArgument(
                "increasing", f"{wrong[0]!r} is categorical in the frame; only numeric "
                "features can be constrained to increase",
            )  # fmt: skip
        monotone = {}
        if any(c in schema.numeric for c in self.increasing):
            signs = [1 if c in self.increasing else 0 for c in schema.columns]
            monotone = {"monotone_constraints": "(" + ",".join(map(str, signs)) + ")"}
        return monotone | {
            "objective": "binary:logistic",
            "eval_metric": "logloss",
            "tree_method": "hist",
            "eta": self.learning_rate,
            "max_depth": self.max_depth,
            "min_child_weight": self.min_child_weight,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "lambda": self.reg_lambda,
            "seed": self.seed,
            "nthread": self.nthread,
        }

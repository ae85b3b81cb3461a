"""The fallback conversion score, for a group that has no trained model yet.

``PriorScorer`` scores a lead and advisor pair as

    P(convert) = clip(grade_rate[grade] x channel_lift[channel] x advisor_lift, 0, 1)
    advisor_lift = clip(advisor_conversion_rate / base_rate, 1 / max_advisor_lift,
                        max_advisor_lift)

where ``advisor_conversion_rate`` is the advisor's smoothed 90-day conversion rate
(``lead_routing.features`` shrinks conversions_90d / leads_90d towards the group's rate, so a
new advisor scores like an average one). An unknown or missing grade scores ``base_rate``,
an unknown channel and a missing advisor rate a lift of 1.

The default rates are documented assumptions, not fitted figures. Grades follow the usual
H/A/B/C convention of Chinese car retail (H: intends to buy within about a week, A: within
two weeks, B: within a month, C: later or undecided), with closed-lead conversion rates of
20%, 10%, 5% and 1.5%. Channel lifts put showroom walk-ins (1.5) and inbound phone calls
(1.2) above the car portals (Autohome 1.0, Dongchedi 0.9), web forms (0.8) and short-video
leads (Douyin 0.6). These are the figures the demo group's lead generator
(``dealer_group.demo_leads``) draws outcomes from, so the fallback is right on the demo;
``PriorScorer.from_history`` replaces them with a group's own smoothed base rates once it
has closed leads (each grade's and each channel's rate shrunk towards the overall rate by
``strength`` pseudo-leads; the channel lift is the channel's rate over the overall rate, a
marginal estimate that assumes grade and channel act independently).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from lead_routing.scoring_schema import as_target
from turnwise.errors import InvalidArgument

__all__ = ["DEFAULT_CHANNEL_LIFTS", "DEFAULT_GRADE_RATES", "PriorScorer"]

FloatArray = npt.NDArray[np.float64]

DEFAULT_GRADE_RATES: tuple[tuple[str, float], ...] = (
    ("H", 0.20),
    ("A", 0.10),
    ("B", 0.05),
    ("C", 0.015),
)
DEFAULT_CHANNEL_LIFTS: tuple[tuple[str, float], ...] = (
    ("WALK_IN", 1.5),
    ("PHONE", 1.2),
    ("AUTOHOME", 1.0),
    ("DONGCHEDI", 0.9),
    ("WEB", 0.8),
    ("DOUYIN", 0.6),
)


@dataclass(frozen=True)
class PriorScorer:
    """Base-rate conversion score of a lead and advisor pair (see the module docstring)."""

    grade_rates: tuple[tuple[str, float], ...] = DEFAULT_GRADE_RATES
    channel_lifts: tuple[tuple[str, float], ...] = DEFAULT_CHANNEL_LIFTS
    base_rate: float = 0.07
    """The rate of a lead of unknown grade, and the advisor rate that gives a lift of 1."""
    max_advisor_lift: float = 2.0
    grade_column: str = "grade"
    channel_column: str = "channel"
    advisor_rate_column: str = "advisor_conversion_rate"

    def __post_init__(self) -> None:
        _check_pairs("grade_rates", self.grade_rates, 0.0, 1.0)
        _check_pairs("channel_lifts", self.channel_lifts, 0.0, None)
        if not 0.0 < self.base_rate < 1.0:
            raise InvalidArgument("base_rate", f"must be within (0, 1), got {self.base_rate}")
        if not self.max_advisor_lift >= 1.0:
            raise InvalidArgument("max_advisor_lift", f"must be >= 1, got {self.max_advisor_lift}")

    def predict_proba(self, frame: pd.DataFrame) -> FloatArray:
        """P(convert) of each row of ``frame``, in [0, 1]."""
        for column in (self.grade_column, self.channel_column):
            if column not in frame.columns:
                raise InvalidArgument(column, "column is missing; the prior scores by it")
        rate = _lookup(frame[self.grade_column], dict(self.grade_rates), self.base_rate)
        lift = _lookup(frame[self.channel_column], dict(self.channel_lifts), 1.0)
        if self.advisor_rate_column in frame.columns:
            advisor = frame[self.advisor_rate_column].to_numpy(dtype=np.float64, na_value=np.nan)
            bound = self.max_advisor_lift
            advisor_lift = np.clip(advisor / self.base_rate, 1.0 / bound, bound)
            lift = lift * np.where(np.isfinite(advisor_lift), advisor_lift, 1.0)
        return np.asarray(np.clip(rate * lift, 0.0, 1.0), dtype=np.float64)

    @classmethod
    def from_history(
        cls, frame: pd.DataFrame, target: object, strength: float = 50.0
    ) -> PriorScorer:
        """The smoothed grade rates and channel lifts of closed leads ``frame`` (with the
        ``grade`` and ``channel`` columns) and their 0/1 outcomes ``target``."""
        if len(frame) == 0:
            raise InvalidArgument("frame", "is empty; base rates need closed leads")
        if not strength > 0:
            raise InvalidArgument("strength", f"must be > 0, got {strength}")
        defaults = cls()
        for column in (defaults.grade_column, defaults.channel_column):
            if column not in frame.columns:
                raise InvalidArgument(column, "column is missing; base rates are by it")
        y = as_target(target, len(frame))
        overall = float(y.mean())
        if not 0.0 < overall < 1.0:
            raise InvalidArgument("target", "needs both converted and lost leads")
        grades = _smoothed(frame[defaults.grade_column], y, overall, strength)
        channels = _smoothed(frame[defaults.channel_column], y, overall, strength)
        return cls(
            grade_rates=tuple(grades.items()),
            channel_lifts=tuple((c, r / overall) for c, r in channels.items()),
            base_rate=overall,
        )


def _smoothed(
    keys: pd.Series, y: npt.NDArray[np.int64], overall: float, strength: float
) -> dict[str, float]:
    known = keys.notna() & (keys.astype(str) != "")
    grouped = pd.Series(y[known.to_numpy()]).groupby(keys[known].astype(str).to_numpy())
    sums, counts = grouped.sum(), grouped.count()
    rates = (sums + strength * overall) / (counts + strength)
    return {str(k): float(v) for k, v in rates.sort_index().items()}


def _lookup(values: pd.Series, table: Mapping[str, float], default: float) -> FloatArray:
    mapped = values.astype(object).map(
        lambda v: table.get(v, default) if isinstance(v, str) else default
    )
    return mapped.to_numpy(dtype=np.float64)


def _check_pairs(
    field: str, pairs: tuple[tuple[str, float], ...], lo: float, hi: float | None
) -> None:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise InvalidArgument(field, "names a key twice")
    for key, value in pairs:
        if not (value >= lo and (hi is None or value <= hi)) or (hi is None and value <= lo):
            bounds = f"[{lo}, {hi}]" if hi is not None else f"> {lo}"
            raise InvalidArgument(f"{field}[{key}]", f"must be {bounds}, got {value}")

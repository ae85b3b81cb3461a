"""The candidate scorers of real-time and batch routing: P(convert) of one lead with each of
its candidate advisors (rows of a ``RoutingTable``).

``scorer(table, lead, rows, open_leads)`` (a ``CandidateScorer``) returns one probability
per row. The default, ``PriorCandidateScorer``, computes
``lead_routing.scoring_prior.PriorScorer``'s score without a feature frame, since that
score factors into a lead part (grade rate x channel lift, two lookups) times an advisor
part (the clipped lift of the table's precomputed rate): one vector product per call.
``ModelCandidateScorer`` wraps any ``ConversionScorer`` (a fitted ``LeadScorer``) and
builds the ``demo_lead_features`` frame of the lead and its candidates
(``candidate_features``); its ``score_many`` scores a whole batch in one frame and one
predict. ``candidate_scores`` and ``candidate_scores_many`` call a scorer and check what
it returns (one score per candidate, each in [0, 1]; else ``FailedPrecondition`` naming
the scorer).

Measured on the 2-core development machine with 1,000 advisors: a whole ``route`` call on
the fast path takes 0.1-0.25 ms at the median and 0.25-0.5 ms at the 99th percentile (from
4 to about 600 candidates), where the model path takes about 16 ms: 2.4 ms to build the
frame of 430 candidates and 13 ms or more for ``LeadScorer.predict_proba`` even on one row
(the feature encoding and five fold boosters are a fixed cost). A fitted model therefore
belongs to the batch path (``RouteLeads``, one frame for all leads and candidates) until
its score is distilled into the same lead x advisor factors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from dealer_group.demo_leads import TAGS
from lead_routing.routing_table import LeadRequest, RoutingTable
from lead_routing.scoring_prior import PriorScorer
from turnwise.errors import FailedPrecondition

if TYPE_CHECKING:
    from lead_routing.scoring import ConversionScorer

__all__ = [
    "CandidateScorer",
    "ModelCandidateScorer",
    "PriorCandidateScorer",
    "candidate_features",
    "candidate_scores",
    "candidate_scores_many",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class CandidateScorer(Protocol):
    """P(convert) of ``lead`` with each advisor of ``rows`` (rows of ``table``), whose
    current open leads are ``open_leads`` (aligned with ``rows``)."""

    def __call__(
        self, table: RoutingTable, lead: LeadRequest, rows: IntArray, open_leads: IntArray
    ) -> FloatArray: ...


@dataclass(frozen=True)
class PriorCandidateScorer:
    """``PriorScorer``'s score without a feature frame: (grade rate x channel lift) of the
    lead times the clipped lift of each advisor's smoothed rate; equal to
    ``PriorScorer.predict_proba`` of the ``candidate_features`` frame."""

    prior: PriorScorer = field(default_factory=PriorScorer)
    _grade: Mapping[str, float] = field(init=False, repr=False, compare=False)
    _channel: Mapping[str, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_grade", dict(self.prior.grade_rates))
        object.__setattr__(self, "_channel", dict(self.prior.channel_lifts))

    def __call__(
        self, table: RoutingTable, lead: LeadRequest, rows: IntArray, open_leads: IntArray
    ) -> FloatArray:
        prior = self.prior
        base = self._grade.get(lead.grade, prior.base_rate) * self._channel.get(lead.channel, 1.0)
        bound = prior.max_advisor_lift
        ratio = table.conversion_rate[rows] / prior.base_rate
        lift = np.minimum(np.maximum(ratio, 1.0 / bound), bound)  # NaN stays NaN
        lift[np.isnan(lift)] = 1.0
        score = base * lift
        return np.asarray(np.minimum(score, 1.0), dtype=np.float64)


@dataclass(frozen=True, eq=False)
class ModelCandidateScorer:
    """Any ``ConversionScorer`` (a fitted ``LeadScorer``) over the ``candidate_features``
    frame: the general, slower path (a frame and a model predict per call)."""

    model: ConversionScorer
    tags: tuple[str, ...] = TAGS

    def __call__(
        self, table: RoutingTable, lead: LeadRequest, rows: IntArray, open_leads: IntArray
    ) -> FloatArray:
        frame = candidate_features(table, lead, rows, open_leads, tags=self.tags)
        return np.asarray(self.model.predict_proba(frame), dtype=np.float64)

    def score_many(
        self,
        table: RoutingTable,
        leads: Sequence[LeadRequest],
        rows: Sequence[IntArray],
        load: IntArray,
    ) -> list[FloatArray]:
        """The scores of many leads, ``rows[j]`` the candidates of ``leads[j]`` and
        ``load`` one count per advisor of ``table``, from one frame and one predict (the
        encoding and the fold boosters are a fixed cost per call: about 13 ms)."""
        frames = [
            candidate_features(table, lead, r, load[r], tags=self.tags)
            for lead, r in zip(leads, rows, strict=True)
        ]
        if not frames:
            return []
        p = np.asarray(self.model.predict_proba(pd.concat(frames, ignore_index=True)))
        ends = np.cumsum([len(r) for r in rows])
        return [p[e - len(r) : e].astype(np.float64) for r, e in zip(rows, ends, strict=True)]


def candidate_features(
    table: RoutingTable,
    lead: LeadRequest,
    rows: IntArray,
    open_leads: IntArray,
    *,
    tags: tuple[str, ...] = TAGS,
) -> pd.DataFrame:
    """The ``lead_routing.features.demo_lead_features`` frame of ``lead`` paired with each
    advisor of ``rows`` (same columns, order and values), ``open_leads`` aligned with
    ``rows``."""
    n = len(rows)
    local = lead.created_at.astimezone(table.zone)
    region = table.region_of_store[lead.store_id] if lead.store_id else lead.region_id
    brand = table.brand_index.get(lead.brand_id)
    columns: dict[str, object] = {
        "channel": np.full(n, lead.channel, dtype=object),
        "brand_id": np.full(n, lead.brand_id, dtype=object),
        "model": np.full(n, lead.model, dtype=object),
        "region_id": np.full(n, region, dtype=object),
        "grade": np.full(n, lead.grade, dtype=object),
        "hour": np.full(n, local.hour, dtype=np.int64),
        "weekday": np.full(n, local.weekday(), dtype=np.int64),
    }
    for tag in tags:
        columns[f"tag_{tag}"] = np.full(n, int(tag in lead.tags), dtype=np.int64)
    columns["tag_count"] = np.full(n, sum(1 for t in lead.tags if t), dtype=np.int64)
    capacity = table.max_open_leads[rows].astype(np.float64)
    load = np.asarray(open_leads, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(capacity > 0, load / capacity, np.nan)
    certified = table.certified[rows, brand] if brand is not None else np.zeros(n, np.bool_)
    columns["advisor_certified"] = certified.astype(np.float64)
    columns["advisor_level"] = table.level[rows].astype(np.float64)
    columns["advisor_conversion_rate"] = table.conversion_rate[rows]
    columns["advisor_open_leads"] = load
    columns["advisor_load_ratio"] = ratio
    return pd.DataFrame(columns)


def candidate_scores_many(
    scorer: CandidateScorer,
    table: RoutingTable,
    leads: Sequence[LeadRequest],
    rows: Sequence[IntArray],
    load: IntArray,
) -> list[FloatArray]:
    """``candidate_scores`` of each lead with its candidates ``rows[j]`` (``load`` one count
    per advisor), in one call where the scorer has ``score_many`` (a fitted model: one
    frame for the whole batch), else lead by lead; checked as ``candidate_scores``."""
    many = getattr(scorer, "score_many", None)
    if many is None:
        pairs = zip(leads, rows, strict=True)
        return [candidate_scores(scorer, table, x, r, load[r]) for x, r in pairs]
    got = [np.asarray(s, dtype=np.float64) for s in many(table, leads, rows, load)]
    if len(got) != len(rows):
        raise FailedPrecondition("scorer", f"returned {len(got)} score vectors for {len(rows)}")
    return [_checked_scores(s, r) for s, r in zip(got, rows, strict=True)]


def candidate_scores(
    scorer: CandidateScorer,
    table: RoutingTable,
    lead: LeadRequest,
    candidates: IntArray,
    load: IntArray,
) -> FloatArray:
    """``scorer``'s P(convert) of ``lead`` with each of ``candidates`` (``load`` aligned with
    them); ``FailedPrecondition`` naming the scorer when it returns another shape or a score
    outside [0, 1]."""
    return _checked_scores(np.asarray(scorer(table, lead, candidates, load)), candidates)


def _checked_scores(scores: FloatArray, candidates: IntArray) -> FloatArray:
    scores = scores.astype(np.float64, copy=False)
    if scores.shape != candidates.shape:
        raise FailedPrecondition(
            "scorer", f"returned shape {scores.shape} for {len(candidates)} candidates"
        )
    if not (scores.min() >= 0.0 and scores.max() <= 1.0):  # NaN fails both
        raise FailedPrecondition("scorer", "returned a score outside [0, 1]")
    return scores

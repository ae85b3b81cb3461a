"""What a lead-stream replay (``lead_routing.replay``) takes besides the routing table: the
handling model (``HandlingModel``, the per-lead draws ``LeadHandling``), the rows of a
``leads`` table as ``LeadRequest``s, the demo generator's own conversion
probability (the yardstick of a replay of the demo group), and a fitted model's scores of
every lead with every certified advisor of its store, computed once in one frame.

``DemoGeneratorScorer`` asks the generator itself
(``dealer_group.demo_leads.conversion_probability``) rather than copying its figures, so the
yardstick cannot drift from the outcomes it stands for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from dealer_group.demo_leads import conversion_probability
from lead_routing.features import demo_lead_features
from lead_routing.routing import LeadRequest, RoutingTable
from turnwise.errors import FailedPrecondition, InvalidArgument

if TYPE_CHECKING:
    from lead_routing.scoring import ConversionScorer

__all__ = [
    "DemoGeneratorScorer",
    "HandlingModel",
    "LeadHandling",
    "PairScores",
    "draw_handling",
    "lead_requests",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class DemoGeneratorScorer:
    """The P(convert) ``dealer_group.demo_leads`` draws the demo group's outcomes from:
    grade rate x channel factor x the advisor's level factor (0.7 + 0.15 (level - 1)),
    clipped to 1. A yardstick for replays of the demo group: no policy sees it."""

    def __call__(
        self, table: RoutingTable, lead: LeadRequest, rows: IntArray, open_leads: IntArray
    ) -> FloatArray:
        level = table.level[rows].astype(np.int64)
        return conversion_probability(lead.grade, lead.channel, level)


@dataclass(frozen=True, eq=False)
class PairScores:
    """A ``CandidateScorer`` over scores computed once: ``rows[lead_id]`` (sorted table
    rows) and ``scores[lead_id]`` (aligned). Build with ``of``."""

    rows: Mapping[str, IntArray]
    scores: Mapping[str, FloatArray]

    @classmethod
    def of(
        cls,
        table: RoutingTable,
        leads: pd.DataFrame,
        advisors: pd.DataFrame,
        stores: pd.DataFrame,
        model: ConversionScorer,
    ) -> PairScores:
        """``model``'s P(convert) of each lead of ``leads`` (rows of the ``leads`` table,
        each with a ``store_id``) with every advisor of its store certified for its brand,
        from one ``demo_lead_features`` frame. The load features are missing, as in the
        history a model is trained on (it records no load)."""
        for column in ("lead_id", "store_id", "brand_id"):
            if column not in leads.columns:
                raise InvalidArgument(f"leads:{column}", "column is missing")
        per_lead: list[IntArray] = []
        for i, (store, brand) in enumerate(zip(leads["store_id"], leads["brand_id"], strict=True)):
            rows = table.rows_of_store.get(str(store))
            j = table.brand_index.get(str(brand))
            if rows is None or j is None:
                field = "store_id" if rows is None else "brand_id"
                raise InvalidArgument(f"leads[{i}].{field}", "is not in the routing table")
            per_lead.append(rows[table.certified[rows, j]])
        counts = np.array([len(r) for r in per_lead], dtype=np.int64)
        flat = np.concatenate(per_lead) if per_lead else np.zeros(0, dtype=np.int64)
        pairs = leads.iloc[np.repeat(np.arange(len(leads)), counts)].reset_index(drop=True)
        pairs["advisor_id"] = np.array(table.advisor_ids, dtype=object)[flat]
        frame = demo_lead_features(pairs, advisors, stores)
        p: FloatArray = np.zeros(len(flat))
        if len(frame):
            p = np.asarray(model.predict_proba(frame), dtype=np.float64)
        ends = np.cumsum(counts)
        ids = leads["lead_id"].astype(str).tolist()
        return cls(
            rows={lead: flat[e - c : e] for lead, c, e in zip(ids, counts, ends, strict=True)},
            scores={lead: p[e - c : e] for lead, c, e in zip(ids, counts, ends, strict=True)},
        )

    def __call__(
        self, table: RoutingTable, lead: LeadRequest, rows: IntArray, open_leads: IntArray
    ) -> FloatArray:
        known = self.rows.get(lead.lead_id)
        if known is None:
            raise FailedPrecondition("scorer", f"lead {lead.lead_id} was not scored in advance")
        at = np.minimum(np.searchsorted(known, rows), max(len(known) - 1, 0))
        if len(known) == 0 or (known[at] != rows).any():
            raise FailedPrecondition("scorer", f"lead {lead.lead_id}: an advisor was not scored")
        return self.scores[lead.lead_id][at]


def lead_requests(leads: pd.DataFrame) -> tuple[LeadRequest, ...]:
    """The rows of a ``leads`` table (``dealer_group.schema``) as ``LeadRequest``s;
    ``region_id`` is optional. A bad value raises ``InvalidArgument`` naming its row."""
    names = ("lead_id", "channel", "store_id", "brand_id", "model", "grade", "phone", "wechat_id")
    for column in (*names, "created_at", "tags"):
        if column not in leads.columns:
            raise InvalidArgument(f"leads:{column}", "column is missing")
    stamps = pd.to_datetime(leads["created_at"], utc=True, format="ISO8601", errors="coerce")
    bad = stamps.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        value = leads["created_at"].iloc[i]
        raise InvalidArgument(f"leads[{i}].created_at", f"{value!r} is not an ISO 8601 time")
    times: list[datetime] = list(stamps.dt.to_pydatetime())
    text = {c: [str(v) for v in leads[c].fillna("")] for c in (*names, "tags")}
    regions = [str(v) for v in leads["region_id"].fillna("")] if "region_id" in leads else None
    out: list[LeadRequest] = []
    for i, created in enumerate(times):
        try:
            out.append(
                LeadRequest(
                    lead_id=text["lead_id"][i],
                    created_at=created,
                    channel=text["channel"][i],
                    brand_id=text["brand_id"][i],
                    grade=text["grade"][i],
                    store_id=text["store_id"][i],
                    region_id=regions[i] if regions is not None else "",
                    model=text["model"][i],
                    phone=text["phone"][i],
                    wechat_id=text["wechat_id"][i],
                    tags=tuple(t for t in text["tags"][i].split(";") if t),
                )
            )
        except InvalidArgument as err:
            raise InvalidArgument(f"leads[{i}].{err.field}", err.hint) from None
    return tuple(out)


@dataclass(frozen=True)
class HandlingModel:
    """How leads are handled (module docstring). Validated when built."""

    mean_holding_hours: float = 72.0
    mean_contact_minutes: float = 2.0
    load_slowdown: float = 1.0
    max_wait_hours: float = 24.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("mean_holding_hours", "mean_contact_minutes", "max_wait_hours"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0 < value < math.inf):
                raise InvalidArgument(name, f"must be a finite number > 0, got {value!r}")
        if not (isinstance(self.load_slowdown, int | float) and 0 <= self.load_slowdown < math.inf):
            raise InvalidArgument(
                "load_slowdown", f"must be finite and >= 0, got {self.load_slowdown}"
            )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise InvalidArgument("seed", f"must be an integer >= 0, got {self.seed!r}")


@dataclass(frozen=True, eq=False)
class LeadHandling:
    """Per lead (aligned with the replayed leads): holding time and first-contact work, in
    minutes."""

    holding_minutes: FloatArray
    contact_minutes: FloatArray

    def __post_init__(self) -> None:
        holding = np.asarray(self.holding_minutes, dtype=np.float64)
        contact = np.asarray(self.contact_minutes, dtype=np.float64)
        if holding.ndim != 1 or holding.shape != contact.shape:
            raise InvalidArgument("contact_minutes", "must have one value per holding time")
        for name, values in (("holding_minutes", holding), ("contact_minutes", contact)):
            if not (np.isfinite(values).all() and (values >= 0).all()):
                raise InvalidArgument(name, "must be finite and >= 0")
        object.__setattr__(self, "holding_minutes", holding)
        object.__setattr__(self, "contact_minutes", contact)


def draw_handling(n: int, model: HandlingModel) -> LeadHandling:
    """The holding times and first-contact work of ``n`` leads, drawn with ``model.seed``."""
    rng = np.random.default_rng(model.seed)
    holding = rng.exponential(model.mean_holding_hours * 60.0, n)
    contact = rng.exponential(model.mean_contact_minutes, n)
    return LeadHandling(holding, contact)

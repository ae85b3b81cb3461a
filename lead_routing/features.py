"""Feature frames for the conversion scorer: one row per lead and advisor pair.

**The demo group's leads** (``demo_lead_features``, ``demo_training_set``). Lead features:
``channel``, ``brand_id``, ``model``, ``region_id`` (the store's region), ``grade``
(H/A/B/C), ``hour`` and ``weekday`` of arrival in the group's local time (Asia/Shanghai;
the tables store UTC), one 0/1 ``tag_<name>`` column per behaviour tag of the vocabulary
(``dealer_group.demo_leads.TAGS`` unless given; ``tags`` is ';'-joined) and ``tag_count``
(every tag, known or not). Advisor-match features, from the advisor in the row's
``advisor_id`` (empty: all missing): ``advisor_certified`` (the lead's brand is among the
advisor's ``brand_ids``), ``advisor_level``, ``advisor_conversion_rate`` (conversions_90d /
leads_90d shrunk towards the group's rate by ``rate_strength`` pseudo-leads, see
``smoothed_rate``), and ``advisor_open_leads`` and ``advisor_load_ratio`` (open leads over
``max_open_leads``) when the caller passes the advisors' current load, else missing. To
score candidate advisors for a lead, pass one row per (lead, candidate) with the
candidate's id in ``advisor_id``.

Nothing is derived from ``converted`` (the target; empty for open leads), and the
identifiers and contact fields (``lead_id``, ``phone``, ``wechat_id``) are not features.
The advisors' 90-day figures are a snapshot: in the demo they are drawn independently of
the leads table, so they hold no trace of the outcomes being predicted; on a real group use
the snapshot taken when each lead arrived, or the lead's own outcome leaks into its
advisor's rate. Two limits of the demo history: every historical lead went to an advisor
certified for its brand, so a model cannot learn what certification is worth (routing
should keep certification a hard rule), and nothing records the advisors' load at
assignment time, so the load features are missing in training and a model trained on the
history ignores them.

**X Education** (``x_education_training_set``: ``Leads.csv`` of
``shared/data/x_education_leads``, 9240 leads, 38.5% converted). Dropped columns:

- ``Prospect ID``, ``Lead Number``: identifiers, unique per row.
- ``Tags`` and ``Lead Quality``: named as leakage in the dataset's SOURCE.md: both are filled
  in by the sales team, often after contact (tags such as "Closed by Horizzon" or "Will
  revert after reading the email" convert 97-99%, "Ringing" 3%). They record the outcome,
  not the lead.
- ``Last Activity`` and ``Last Notable Activity`` (unless ``drop_snapshots=False``): the
  latest activity when the CRM was exported, i.e. after the sales process, and partly the
  sales team's own actions ("SMS Sent" converts 63-69%, "Modified" is a record edit). A
  routing score is computed when a lead arrives, before any of it exists.
- Columns with one value in every row (``Magazine``, ``Receive More Updates About Our
  Courses``, ``Update me on Supply Chain Content``, ``Get updates on DM Content``, ``I agree
  to pay the amount through cheque``): no information.
- ``Converted`` is the target.

Yes/No columns become 1/0. The literal "Select" (the form's unfilled default) is kept as a
level of its own rather than made missing: its rows convert at 41-49% where truly missing
values convert at 11-14%, so the two mean different things (a form left at its default
versus a lead that never saw the form).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from dealer_group.demo import DemoGroup
from dealer_group.demo_leads import TAGS
from forecasting.datasets import shared_data_dir
from turnwise.errors import DatasetMissing, InvalidArgument

__all__ = [
    "ADVISOR_FEATURES",
    "DEMO_TIMEZONE",
    "X_EDUCATION_FOLDER",
    "X_EDUCATION_IDENTIFIERS",
    "X_EDUCATION_LEAKAGE",
    "X_EDUCATION_SNAPSHOTS",
    "X_EDUCATION_TARGET",
    "TrainingSet",
    "demo_lead_features",
    "demo_training_set",
    "smoothed_rate",
    "x_education_training_set",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DEMO_TIMEZONE = "Asia/Shanghai"
ADVISOR_FEATURES = (
    "advisor_certified",
    "advisor_level",
    "advisor_conversion_rate",
    "advisor_open_leads",
    "advisor_load_ratio",
)
X_EDUCATION_FOLDER = "x_education_leads"
X_EDUCATION_TARGET = "Converted"
X_EDUCATION_IDENTIFIERS = ("Prospect ID", "Lead Number")
X_EDUCATION_LEAKAGE = ("Tags", "Lead Quality")
X_EDUCATION_SNAPSHOTS = ("Last Activity", "Last Notable Activity")

_LEAD_COLUMNS = ("created_at", "channel", "store_id", "brand_id", "model", "grade", "tags")
_ADVISOR_COLUMNS = (
    "advisor_id",
    "level",
    "brand_ids",
    "max_open_leads",
    "leads_90d",
    "conversions_90d",
)


@dataclass(frozen=True, eq=False)
class TrainingSet:
    """A feature frame, its 0/1 target, the id of each row, and the source columns left out
    of the features."""

    frame: pd.DataFrame
    target: IntArray
    ids: npt.NDArray[np.object_]
    dropped: tuple[str, ...]


def smoothed_rate(
    successes: npt.ArrayLike, trials: npt.ArrayLike, prior_rate: float, strength: float
) -> FloatArray:
    """``(successes + strength * prior_rate) / (trials + strength)``: a rate shrunk towards
    ``prior_rate`` as if ``strength`` more trials had converted at that rate."""
    if not 0.0 <= prior_rate <= 1.0:
        raise InvalidArgument("prior_rate", f"must be within [0, 1], got {prior_rate}")
    if not strength > 0.0:
        raise InvalidArgument("strength", f"must be > 0, got {strength}")
    s = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    if (s < 0).any() or (s > n).any():
        raise InvalidArgument("successes", "must be within [0, trials]")
    return np.asarray((s + strength * prior_rate) / (n + strength), dtype=np.float64)


def demo_lead_features(
    leads: pd.DataFrame,
    advisors: pd.DataFrame,
    stores: pd.DataFrame,
    *,
    advisor_load: Mapping[str, int] | pd.Series | None = None,
    tags: Sequence[str] = TAGS,
    timezone: str = DEMO_TIMEZONE,
    rate_strength: float = 30.0,
) -> pd.DataFrame:
    """The feature frame of ``leads`` (rows of the ``leads`` table; ``advisor_id`` names the
    advisor to pair each with, empty for none) against the ``advisors`` and ``stores``
    tables. ``advisor_load`` maps advisor id to open leads (absent ids: 0)."""
    _require(leads, (*_LEAD_COLUMNS, "advisor_id"), "leads")
    _require(advisors, _ADVISOR_COLUMNS, "advisors")
    _require(stores, ("store_id", "region_id"), "stores")
    region = _join(leads["store_id"], stores.set_index("store_id")["region_id"], "store_id")
    local = _arrival(leads["created_at"], timezone)
    frame = pd.DataFrame(
        {
            "channel": leads["channel"].to_numpy(dtype=object),
            "brand_id": leads["brand_id"].to_numpy(dtype=object),
            "model": leads["model"].to_numpy(dtype=object),
            "region_id": region,
            "grade": leads["grade"].to_numpy(dtype=object),
            "hour": local.dt.hour.to_numpy(dtype=np.int64),
            "weekday": local.dt.day_of_week.to_numpy(dtype=np.int64),
        }
    )
    tag_lists = leads["tags"].fillna("").astype(str).str.split(";")
    for tag in tags:
        frame[f"tag_{tag}"] = tag_lists.map(lambda ts, t=tag: t in ts).to_numpy(dtype=np.int64)
    frame["tag_count"] = tag_lists.map(lambda ts: sum(1 for t in ts if t)).to_numpy(np.int64)
    advisor = _advisor_features(leads, advisors, advisor_load, rate_strength)
    for column in ADVISOR_FEATURES:
        frame[column] = advisor[column]
    return frame


def demo_training_set(group: DemoGroup, *, rate_strength: float = 30.0) -> TrainingSet:
    """The closed, assigned leads of ``group`` (``converted`` is "0" or "1" and
    ``advisor_id`` is set), their features (``demo_lead_features``) and outcomes."""
    leads = group.leads
    closed = leads["converted"].isin(["0", "1"]) & (leads["advisor_id"] != "")
    rows = leads[closed.to_numpy()].reset_index(drop=True)
    if len(rows) == 0:
        raise InvalidArgument("leads", "has no closed, assigned lead to train on")
    frame = demo_lead_features(rows, group.advisors, group.stores, rate_strength=rate_strength)
    return TrainingSet(
        frame=frame,
        target=rows["converted"].eq("1").to_numpy().astype(np.int64),
        ids=rows["lead_id"].to_numpy(dtype=object),
        dropped=("lead_id", "phone", "wechat_id", "advisor_id", "store_id", "converted"),
    )


def x_education_training_set(
    path: Path | None = None, *, drop_snapshots: bool = True
) -> TrainingSet:
    """The X Education leads as a training set (see the module docstring for what is
    dropped and why). ``path`` is ``Leads.csv`` or its folder; by default the one under
    ``forecasting.datasets.shared_data_dir()``."""
    path = Path(path) if path is not None else shared_data_dir() / X_EDUCATION_FOLDER
    if path.is_dir():
        path = path / "Leads.csv"
    if not path.is_file():
        raise DatasetMissing(
            X_EDUCATION_FOLDER,
            f"Leads.csv not found at {path}; set TURNWISE_SHARED_DATA or place shared/data "
            "beside the repo",
        )
    raw = pd.read_csv(path)
    _require(raw, (*X_EDUCATION_IDENTIFIERS, X_EDUCATION_TARGET), path.name)
    target = raw[X_EDUCATION_TARGET].to_numpy()
    if not np.isin(target, (0, 1)).all():
        raise InvalidArgument(f"{path.name}:{X_EDUCATION_TARGET}", "must hold only 0 and 1")
    dropped = [*X_EDUCATION_IDENTIFIERS, X_EDUCATION_TARGET, *X_EDUCATION_LEAKAGE]
    if drop_snapshots:
        dropped += X_EDUCATION_SNAPSHOTS
    features = raw.drop(columns=[c for c in dropped if c in raw.columns])
    constant = [c for c in features.columns if features[c].nunique(dropna=False) <= 1]
    frame = pd.DataFrame({c: _yes_no(features[c]) for c in features.columns if c not in constant})
    return TrainingSet(
        frame=frame,
        target=target.astype(np.int64),
        ids=raw["Prospect ID"].to_numpy(dtype=object),
        dropped=(*dropped, *constant),
    )


def _yes_no(series: pd.Series) -> pd.Series:
    """A Yes/No column as 1.0/0.0 (NaN stays NaN); any other column unchanged (text as
    object)."""
    if pd.api.types.is_numeric_dtype(series):
        return series
    values = series.astype(object)
    if set(values.dropna().unique()) <= {"Yes", "No"}:
        return values.map({"Yes": 1.0, "No": 0.0}).astype(np.float64)
    return values


def _require(frame: pd.DataFrame, columns: Sequence[str], table: str) -> None:
    for column in columns:
        if column not in frame.columns:
            raise InvalidArgument(f"{table}:{column}", "column is missing")


def _join(keys: pd.Series, table: pd.Series, column: str) -> npt.NDArray[np.object_]:
    if not table.index.is_unique:
        raise InvalidArgument(f"stores:{column}", "has duplicate ids")
    found = table.reindex(keys.to_numpy())
    unknown = found.isna().to_numpy()
    if unknown.any():
        first = keys.to_numpy()[np.flatnonzero(unknown)[0]]
        raise InvalidArgument(f"leads:{column}", f"{first!r} is not in the stores table")
    return found.to_numpy(dtype=object)


def _arrival(created_at: pd.Series, timezone: str) -> pd.Series:
    stamps = pd.to_datetime(created_at, utc=True, format="ISO8601", errors="coerce")
    bad = stamps.isna().to_numpy()
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise InvalidArgument(
            "leads:created_at",
            f"row {first}: {created_at.iloc[first]!r} is not an ISO 8601 timestamp",
        )
    return stamps.dt.tz_convert(timezone)


def _advisor_features(
    leads: pd.DataFrame,
    advisors: pd.DataFrame,
    advisor_load: Mapping[str, int] | pd.Series | None,
    rate_strength: float,
) -> dict[str, FloatArray]:
    table = advisors.set_index("advisor_id")
    if not table.index.is_unique:
        raise InvalidArgument("advisors:advisor_id", "has duplicate ids")
    ids = leads["advisor_id"].fillna("").astype(str).to_numpy(dtype=object)
    known = ids != ""
    rows = table.index.get_indexer(ids[known])
    if (rows < 0).any():
        first = ids[known][np.flatnonzero(rows < 0)[0]]
        raise InvalidArgument("leads:advisor_id", f"{first!r} is not in the advisors table")
    trials = table["leads_90d"].to_numpy(dtype=np.float64)
    successes = table["conversions_90d"].to_numpy(dtype=np.float64)
    rate = np.full(len(table), np.nan)
    if trials.sum() > 0:
        rate = smoothed_rate(successes, trials, successes.sum() / trials.sum(), rate_strength)
    brands = table["brand_ids"].astype(str).str.split(";").to_numpy(dtype=object)
    lead_brand = leads["brand_id"].astype(str).to_numpy(dtype=object)[known]
    certified = [b in brands[r] for b, r in zip(lead_brand, rows, strict=True)]
    capacity = table["max_open_leads"].to_numpy(dtype=np.float64)
    open_leads = np.full(len(table), np.nan)
    if advisor_load is not None:
        load = pd.Series(advisor_load, dtype=np.float64)
        open_leads = load.reindex(table.index).fillna(0.0).to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(capacity > 0, open_leads / capacity, np.nan)
    values = {
        "advisor_certified": np.asarray(certified, dtype=np.float64),
        "advisor_level": table["level"].to_numpy(dtype=np.float64)[rows],
        "advisor_conversion_rate": rate[rows],
        "advisor_open_leads": open_leads[rows],
        "advisor_load_ratio": ratio[rows],
    }
    out: dict[str, FloatArray] = {}
    for column, known_values in values.items():
        full = np.full(len(ids), np.nan)
        full[known] = known_values
        out[column] = full
    return out

"""Sales advisors and the leads of the last few weeks.

Leads arrive in proportion to a store's sales (about three per car sold), for the brands and
models it sells, busier in the evening and at weekends (Beijing time, stored as UTC). Some
customers come back through another channel, with their phone number written another way
(``13812345678`` / ``+86 138 1234 5678`` / ``+86-138-1234-5678`` / ``0086 13812345678``),
which is what customer One-ID has to untangle. Whether a closed lead converted depends on
its grade, its channel and the level of the advisor it was given to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from dealer_group.demo_catalogue import GIVEN_NAMES, MOBILE_PREFIXES, SURNAMES
from dealer_group.demo_network import Network, padded_ids
from dealer_group.demo_sales import Demand

__all__ = ["CHANNELS", "GRADES", "TAGS", "People", "build_people", "conversion_probability"]

LEADS_PER_SALE = 3.0
GRADES = ("H", "A", "B", "C")
_GRADE_P = (0.10, 0.25, 0.35, 0.30)
_GRADE_CONVERSION = (0.22, 0.11, 0.05, 0.015)
CHANNELS = ("WEB", "DOUYIN", "AUTOHOME", "DONGCHEDI", "WALK_IN", "PHONE")
_CHANNEL_P = (0.15, 0.25, 0.20, 0.15, 0.15, 0.10)
_CHANNEL_CONVERSION = (0.8, 0.6, 1.0, 0.9, 1.5, 1.2)
_WALK_IN, _DOUYIN = CHANNELS.index("WALK_IN"), CHANNELS.index("DOUYIN")
_ONLINE = tuple(CHANNELS.index(c) for c in ("WEB", "AUTOHOME", "DONGCHEDI"))
# Beijing hour-of-day weights: online leads peak in the evening; walk-ins in opening hours.
_HOURS_ONLINE = np.array(
    [.4, .2, .1, .05, .05, .1, .2, .4, .7, .9, 1, 1, 1.1, 1, .9, .9, 1, 1.1, 1.4, 1.8, 2, 1.9,
     1.5, .9]
)  # fmt: skip
_HOURS_WALK_IN = np.array(
    [0, 0, 0, 0, 0, 0, 0, 0, 0, .6, 1, 1.1, .9, .9, 1.2, 1.3, 1.3, 1.2, 1, .8, .5, 0, 0, 0]
)  # fmt: skip
TAGS = (
    "test_drive_request",
    "price_inquiry",
    "finance_inquiry",
    "trade_in",
    "config_compare",
    "brochure_download",
    "live_stream_viewer",
    "store_visit",
)
# P(tag) by grade H, A, B, C for the first five tags; the last three depend on the channel.
_TAG_P = np.array(
    [
        [0.60, 0.40, 0.15, 0.05],
        [0.70, 0.60, 0.45, 0.30],
        [0.35, 0.25, 0.12, 0.05],
        [0.25, 0.20, 0.10, 0.05],
        [0.30, 0.35, 0.30, 0.20],
    ]
)
_SHIFTS = (("08:30", "17:30"), ("09:00", "18:00"), ("10:00", "19:00"), ("12:00", "21:00"))
_REPEAT_CUSTOMER = 0.08
_PHONE_FORM_P = (0.55, 0.20, 0.10, 0.15)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Strings = npt.NDArray[np.object_]


@dataclass(frozen=True, eq=False)
class People:
    advisors: pd.DataFrame
    leads: pd.DataFrame


def build_people(
    network: Network,
    demand: Demand,
    history_end: date,
    lead_days: int,
    rng: np.random.Generator,
) -> People:
    """Draw the advisors of every store and the leads of the last ``lead_days`` days."""
    store_rate = np.bincount(
        demand.pair_store, weights=demand.pair_rate, minlength=len(network.stores)
    ).astype(np.float64)
    daily_leads = (LEADS_PER_SALE * store_rate / 7.0).astype(np.float64)
    advisors, advisor_store, level, certified = _advisors(network, store_rate, daily_leads, rng)
    leads = _leads(network, demand, daily_leads, history_end, lead_days, rng)
    leads = _assign(leads, network, advisors, advisor_store, level, certified, history_end, rng)
    return People(advisors=advisors, leads=leads)


def _advisors(
    network: Network, store_rate: FloatArray, daily_leads: FloatArray, rng: np.random.Generator
) -> tuple[pd.DataFrame, IntArray, IntArray, npt.NDArray[np.bool_]]:
    """4-10 advisors per store (more in busier stores, at least one per brand), each
    certified for a non-empty subset of the store's brands that together cover them all."""
    n_stores, n_brands = network.auth.shape
    wanted = np.clip(np.round(3 + store_rate / 6 + rng.normal(0, 1, n_stores)), 4, 10)
    count = np.maximum(wanted.astype(np.int64), network.auth.sum(axis=1))
    store = np.repeat(np.arange(n_stores), count)
    n = len(store)
    certified = np.zeros((n, n_brands), dtype=np.bool_)
    start = 0
    for s in range(n_stores):
        brands = np.flatnonzero(network.auth[s])
        k, m = len(brands), int(count[s])
        extra = rng.random((m, k)) < 0.35
        extra[np.arange(m), np.arange(m) % k] = True
        certified[start : start + m, brands] = extra
        start += m
    level = rng.choice(np.arange(1, 6), size=n, p=(0.15, 0.30, 0.30, 0.15, 0.10))
    shift = rng.integers(0, len(_SHIFTS), n)
    leads_90d = rng.poisson(daily_leads[store] * 90 / count[store] * rng.uniform(0.7, 1.3, n))
    p_convert = _mean_conversion() * _level_factor(level) * rng.uniform(0.8, 1.2, n)
    brand_ids = network.brands["brand_id"].to_numpy(dtype=object)
    surname = np.array(SURNAMES, dtype=object)[rng.integers(0, len(SURNAMES), n)]
    given = np.array(GIVEN_NAMES, dtype=object)[rng.integers(0, len(GIVEN_NAMES), n)]
    frame = pd.DataFrame(
        {
            "advisor_id": padded_ids("A", n, 4),
            "store_id": network.stores["store_id"].to_numpy(dtype=object)[store],
            "name": surname + " " + given,
            "level": level.astype(np.int64),
            "brand_ids": [";".join(brand_ids[row]) for row in certified],
            "shift_start": [_SHIFTS[i][0] for i in shift],
            "shift_end": [_SHIFTS[i][1] for i in shift],
            "max_open_leads": (10 + 5 * level + rng.integers(0, 6, n)).astype(np.int64),
            "leads_90d": leads_90d.astype(np.int64),
            "conversions_90d": rng.binomial(leads_90d, np.minimum(p_convert, 1.0)),
        }
    )
    return frame, store.astype(np.int64), level.astype(np.int64), certified


def _mean_conversion() -> float:
    grade = float(np.dot(_GRADE_P, _GRADE_CONVERSION))
    return grade * float(np.dot(_CHANNEL_P, _CHANNEL_CONVERSION))


def _level_factor(level: IntArray) -> FloatArray:
    return np.asarray(0.7 + 0.15 * (level - 1), dtype=np.float64)


def conversion_probability(grade: str, channel: str, level: IntArray) -> FloatArray:
    """The probability the generator converts a lead of ``grade`` and ``channel`` with it
    when handled by advisors of ``level``: grade rate x channel factor x level factor
    (0.7 + 0.15 (level - 1)), clipped to 1. The yardstick of replays of the demo group."""
    base = _GRADE_CONVERSION[GRADES.index(grade)] * _CHANNEL_CONVERSION[CHANNELS.index(channel)]
    return np.asarray(np.minimum(base * _level_factor(level), 1.0), dtype=np.float64)


def _leads(
    network: Network,
    demand: Demand,
    daily_leads: FloatArray,
    history_end: date,
    lead_days: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Leads without their assignment, sorted by time: store, pair (brand, model), channel,
    grade, time, contact and tags."""
    store = np.repeat(np.arange(len(daily_leads)), rng.poisson(daily_leads * lead_days))
    n = len(store)
    pair = _pick_pairs(store, demand, rng)
    channel = rng.choice(len(CHANNELS), size=n, p=_CHANNEL_P)
    grade = rng.choice(len(GRADES), size=n, p=_GRADE_P)
    local = _local_times(channel, history_end, lead_days, rng)
    order = np.argsort(local, kind="stable")
    store, pair, channel, grade = store[order], pair[order], channel[order], grade[order]
    local = local[order]
    phone, wechat = _contacts(n, rng)
    trim = demand.pair_trim[pair]
    utc = local - np.timedelta64(8, "h")
    return pd.DataFrame(
        {
            "lead_id": padded_ids("L", n, 6),
            "created_at": np.char.add(np.datetime_as_string(utc, unit="s"), "Z").astype(object),
            "channel": np.array(CHANNELS, dtype=object)[channel],
            "store_id": network.stores["store_id"].to_numpy(dtype=object)[store],
            "brand_id": network.brands["brand_id"].to_numpy(dtype=object)[network.trim_brand[trim]],
            "model": network.trims["model"].to_numpy(dtype=object)[trim],
            "grade": np.array(GRADES, dtype=object)[grade],
            "phone": phone,
            "wechat_id": wechat,
            "tags": _tags(grade, channel, rng),
            "_store": store,
            "_brand": network.trim_brand[trim],
            "_grade": grade,
            "_channel": channel,
            "_local": local,
        }
    )


def _pick_pairs(store: IntArray, demand: Demand, rng: np.random.Generator) -> IntArray:
    """For each lead, a store x trim pair of its store, in proportion to current demand
    (pairs are sorted by store, so each store's pairs are one run of the cumulative sum)."""
    cum = np.cumsum(demand.pair_rate)
    n_stores = int(demand.pair_store.max()) + 1
    first = np.searchsorted(demand.pair_store, np.arange(n_stores), side="left")
    last = np.searchsorted(demand.pair_store, np.arange(n_stores), side="right") - 1
    before = np.where(first > 0, cum[np.maximum(first - 1, 0)], 0.0)
    total = cum[last] - before
    target = before[store] + rng.random(len(store)) * total[store]
    pair = np.searchsorted(cum, target, side="right")
    return np.clip(pair, first[store], last[store]).astype(np.int64)


def _local_times(
    channel: IntArray, history_end: date, lead_days: int, rng: np.random.Generator
) -> npt.NDArray[np.datetime64]:
    """Beijing local creation times: weekends 1.4 times as busy, evening peaks online."""
    n = len(channel)
    first_day = history_end - timedelta(days=lead_days)
    weekday = (np.arange(lead_days) + first_day.weekday()) % 7
    day_w = np.where(weekday >= 5, 1.4, 1.0)
    day = rng.choice(lead_days, size=n, p=day_w / day_w.sum())
    online = rng.choice(24, size=n, p=_HOURS_ONLINE / _HOURS_ONLINE.sum())
    walk_in = rng.choice(24, size=n, p=_HOURS_WALK_IN / _HOURS_WALK_IN.sum())
    hour = np.where(channel == _WALK_IN, walk_in, online)
    seconds = day * 86400 + hour * 3600 + rng.integers(0, 3600, n)
    times = np.datetime64(first_day, "s") + seconds.astype("timedelta64[s]")
    return cast(npt.NDArray[np.datetime64], times)


def _contacts(n: int, rng: np.random.Generator) -> tuple[Strings, Strings]:
    """Phone (in one of four written forms) and WeChat id (empty for most) of each lead;
    about 8% of leads are a returning customer, written in a different form."""
    repeat = rng.random(n) < _REPEAT_CUSTOMER
    repeat[:1] = False
    earlier = (rng.random(n) * np.arange(n)).astype(np.int64)
    form = rng.choice(4, size=n, p=_PHONE_FORM_P)
    shift = rng.integers(1, 4, n)
    customer = np.arange(n)
    for i in np.flatnonzero(repeat):  # a returning customer reuses an earlier number
        customer[i] = customer[earlier[i]]
        form[i] = (form[earlier[i]] + shift[i]) % 4
    prefix = np.array(MOBILE_PREFIXES, dtype=object)[rng.integers(0, len(MOBILE_PREFIXES), n)]
    suffix = rng.choice(10**8, size=n, replace=False)
    alphabet = np.array(list("abcdefghijklmnopqrstuvwxyz0123456789"), dtype="<U1")
    letters = alphabet[rng.integers(0, len(alphabet), (n, 10))]
    handles = np.char.add("wxid_", letters.view("<U10").ravel())
    has_wechat = rng.random(n) < 0.3
    wechat = np.where(has_wechat, handles, "").astype(object)[customer]
    phone = [
        _format_phone(str(prefix[c]), int(suffix[c]), int(f))
        for c, f in zip(customer, form, strict=True)
    ]
    return np.array(phone, dtype=object), wechat


def _format_phone(prefix: str, suffix: int, form: int) -> str:
    digits = f"{prefix}{suffix:08d}"
    if form == 1:
        return f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}"
    if form == 2:
        return f"+86-{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if form == 3:
        return f"0086 {digits}"
    return digits


def _tags(grade: IntArray, channel: IntArray, rng: np.random.Generator) -> Strings:
    """';'-joined behaviour tags, more buying signals for hotter grades."""
    n = len(grade)
    p = np.empty((n, len(TAGS)))
    p[:, :5] = _TAG_P[:, grade].T
    p[:, 5] = np.where(np.isin(channel, _ONLINE), 0.25, 0.0)
    p[:, 6] = np.where(channel == _DOUYIN, 0.7, 0.03)
    p[:, 7] = np.where(channel == _WALK_IN, 1.0, 0.0)
    bits = (rng.random((n, len(TAGS))) < p) @ (1 << np.arange(len(TAGS)))
    joined = np.array(
        [";".join(t for i, t in enumerate(TAGS) if m >> i & 1) for m in range(1 << len(TAGS))],
        dtype=object,
    )
    return joined[bits]


def _assign(
    leads: pd.DataFrame,
    network: Network,
    advisors: pd.DataFrame,
    advisor_store: IntArray,
    level: IntArray,
    certified: npt.NDArray[np.bool_],
    history_end: date,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Historical assignment (uniform among the store's advisors certified for the brand,
    as first-come or round-robin routing gives on average) and outcome. Leads of the last
    day are open and unassigned; older leads are open with a chance that falls with age (1
    within 2 days, 0.5 within a week, 0.2 within two, then 0.03); closed leads convert with
    probability grade x channel x advisor level."""
    n = len(leads)
    store = leads["_store"].to_numpy()
    brand = leads["_brand"].to_numpy()
    key = store * certified.shape[1] + brand
    first_adv = np.searchsorted(advisor_store, np.arange(len(network.stores)), side="left")
    last_adv = np.searchsorted(advisor_store, np.arange(len(network.stores)), side="right")
    order = np.argsort(key, kind="stable")
    keys, starts, sizes = np.unique(key[order], return_index=True, return_counts=True)
    chosen = np.full(n, -1, dtype=np.int64)
    for k, start, size in zip(keys, starts, sizes, strict=True):
        s, b = divmod(int(k), certified.shape[1])
        candidates = first_adv[s] + np.flatnonzero(certified[first_adv[s] : last_adv[s], b])
        rows = order[start : start + size]
        chosen[rows] = candidates[rng.integers(0, len(candidates), len(rows))]
    end = np.datetime64(history_end, "s")
    age_h = (end - leads["_local"].to_numpy()).astype("timedelta64[s]").astype(np.int64) / 3600
    p_open = np.select([age_h < 48, age_h < 168, age_h < 336], [1.0, 0.5, 0.2], 0.03)
    is_open = rng.random(n) < p_open
    unassigned = is_open & (age_h < 24)
    p_convert = (
        np.array(_GRADE_CONVERSION)[leads["_grade"].to_numpy()]
        * np.array(_CHANNEL_CONVERSION)[leads["_channel"].to_numpy()]
        * _level_factor(level[chosen])
    )
    converted = rng.random(n) < p_convert
    advisor_ids = advisors["advisor_id"].to_numpy(dtype=object)
    out = leads.drop(columns=["_store", "_brand", "_grade", "_channel", "_local"])
    out["advisor_id"] = np.where(unassigned, "", advisor_ids[chosen]).astype(object)
    out["converted"] = np.where(is_open, "", np.where(converted, "1", "0")).astype(object)
    return out

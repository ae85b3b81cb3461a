"""The deterministic demo dealer group: determinism, the table contract, referential
integrity, realism of the sales (real source shapes, Chinese calendar), stock, OEM offer,
advisors and leads, and the CSV round trip."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import holidays
import numpy as np
import pandas as pd
import pytest

from dealer_group import records as r
from dealer_group.demo import DemoGroup, DemoSpec, generate, read_csv, write_csv
from dealer_group.demo_calendar import calendar_factors
from dealer_group.schema import COLUMN_TYPES, TABLES, ColumnType, table_spec
from turnwise.errors import InvalidArgument

SPEC = DemoSpec()
SOURCE_CSV = (
    Path(__file__).resolve().parents[1] / "dealer_group/data/norway_new_car_sales_by_make.csv"
)


@pytest.fixture(scope="module")
def group() -> DemoGroup:
    return generate(SPEC)


@pytest.fixture(scope="module")
def csv_dir(group: DemoGroup, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    write_csv(group, out)
    return out


def _brands_of(group: DemoGroup) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for store_id, brand_id in group.authorisations.itertuples(index=False):
        out.setdefault(store_id, set()).add(brand_id)
    return out


def _trim_brand(group: DemoGroup) -> dict[str, str]:
    return dict(zip(group.trims["trim_id"], group.trims["brand_id"], strict=True))


# --- determinism and the table contract -------------------------------------------------


def test_same_seed_gives_byte_identical_csv(csv_dir: Path, tmp_path: Path) -> None:
    write_csv(generate(SPEC), tmp_path)
    names = [t.file_name for t in TABLES] + ["manifest.json"]
    for name in names:
        assert (tmp_path / name).read_bytes() == (csv_dir / name).read_bytes(), name


def test_different_seed_gives_different_data(csv_dir: Path, tmp_path: Path) -> None:
    write_csv(generate(replace(SPEC, seed=1)), tmp_path)
    for name in ("stores.csv", "sales.csv", "inventory.csv", "leads.csv", "advisors.csv"):
        assert (tmp_path / name).read_bytes() != (csv_dir / name).read_bytes(), name


def test_tables_have_exactly_the_schema_columns_and_types(group: DemoGroup) -> None:
    for table in TABLES:
        frame = group.table(table.name)
        assert tuple(frame.columns) == table.columns, table.name
        assert len(frame) > 0, table.name
        for column in table.columns:
            kind = COLUMN_TYPES[column]
            if kind is ColumnType.INT:
                assert frame[column].dtype == np.int64, (table.name, column)
            elif kind is ColumnType.FLOAT:
                assert frame[column].dtype == np.float64, (table.name, column)
            else:
                assert pd.api.types.is_string_dtype(frame[column]), (table.name, column)
                assert not frame[column].isna().any(), (table.name, column)


def test_table_names_are_the_loader_contract() -> None:
    assert [t.name for t in TABLES] == [
        "regions", "stores", "brands", "authorisations", "trims", "inventory", "sales",
        "oem_offers", "brand_targets", "bundles", "advisors", "leads",
    ]  # fmt: skip
    assert table_spec("sales").columns == ("week_start", "store_id", "trim_id", "units")
    with pytest.raises(InvalidArgument):
        table_spec("vehicles")


def test_keys_are_unique(group: DemoGroup) -> None:
    for table in TABLES:
        frame = group.table(table.name)
        assert not frame.duplicated(list(table.key)).any(), table.name


def test_ids_follow_the_documented_patterns(group: DemoGroup) -> None:
    patterns = {
        ("regions", "region_id"): r"R\d{2}",
        ("stores", "store_id"): r"S\d{3}",
        ("brands", "brand_id"): r"B\d{2}",
        ("trims", "trim_id"): r"T\d{4}",
        ("advisors", "advisor_id"): r"A\d{4}",
        ("leads", "lead_id"): r"L\d{6}",
    }
    for (name, column), pattern in patterns.items():
        assert group.table(name)[column].str.fullmatch(pattern).all(), column
    assert 10 <= len(group.brands) <= 20
    assert {"Toyota", "Volkswagen", "BYD", "Tesla", "BMW"} <= set(group.brands["name"])


def test_every_table_builds_valid_records(group: DemoGroup) -> None:
    """The generated rows pass the boundary validation of ``dealer_group.records``."""
    brands_of = _brands_of(group)
    for x in group.stores.to_dict(orient="records"):
        r.Store(
            x["store_id"], x["name"], x["region_id"], x["city"], r.StoreType(x["store_type"]),
            x["latitude"], x["longitude"], int(x["lot_capacity"]), int(x["credit_limit_cny"]),
            tuple(sorted(brands_of[x["store_id"]])),
        )  # fmt: skip
    for x in group.trims.to_dict(orient="records"):
        r.Trim(
            x["trim_id"], x["brand_id"], x["model"], x["trim"], r.Powertrain(x["powertrain"]),
            int(x["msrp_cny"]), int(x["cost_cny"]), float(x["holding_cost_cny_per_day"]),
        )  # fmt: skip
    for x in group.inventory.to_dict(orient="records"):
        r.Vehicle(
            x["vin"], x["store_id"], x["trim_id"], x["colour"],
            date.fromisoformat(x["arrival_date"]), r.VehicleStatus(x["status"]),
            int(x["cost_cny"]),
        )  # fmt: skip
    for x in group.advisors.to_dict(orient="records"):
        r.Advisor(
            x["advisor_id"], x["store_id"], x["name"], int(x["level"]),
            tuple(x["brand_ids"].split(";")), x["shift_start"], x["shift_end"],
            int(x["max_open_leads"]), int(x["leads_90d"]), int(x["conversions_90d"]),
        )  # fmt: skip
    for x in group.leads.head(3000).to_dict(orient="records"):
        r.Lead(
            x["lead_id"], datetime.fromisoformat(x["created_at"].replace("Z", "+00:00")),
            r.LeadChannel(x["channel"]), x["store_id"], "", x["brand_id"], x["model"],
            r.LeadGrade(x["grade"]), x["phone"], x["wechat_id"],
            tuple(t for t in x["tags"].split(";") if t), x["advisor_id"],
            None if x["converted"] == "" else x["converted"] == "1",
        )  # fmt: skip
    r.ProductionSchedule(
        "DEMO",
        1,
        tuple(
            r.ScheduleLine(date.fromisoformat(w), t, int(u))
            for _, w, t, u in group.oem_offers.itertuples(index=False)
        ),
        tuple(
            r.BrandTarget(b, m, int(u), bool(h))
            for b, m, u, h in group.brand_targets.itertuples(index=False)
        ),
        tuple(r.Bundle(h, s, int(k)) for h, s, k in group.bundles.itertuples(index=False)),
    )


# --- the network --------------------------------------------------------------------------


def test_authorisations_match_store_types_and_cover_every_brand(group: DemoGroup) -> None:
    brands_of = _brands_of(group)
    allowed = {"4S": (1, 1), "SHOWROOM": (2, 4), "OUTLET": (3, 6)}
    for store_id, store_type in group.stores[["store_id", "store_type"]].itertuples(index=False):
        lo, hi = allowed[store_type]
        assert lo <= len(brands_of[store_id]) <= hi, (store_id, store_type)
    assert set(group.authorisations["brand_id"]) == set(group.brands["brand_id"])
    assert set(group.stores["region_id"]) == set(group.regions["region_id"])


def test_stores_are_in_real_chinese_cities_with_jitter(group: DemoGroup) -> None:
    stores = group.stores
    assert stores["latitude"].between(18, 54).all()
    assert stores["longitude"].between(73, 135).all()
    shanghai = stores[stores["city"] == "Shanghai"]
    assert len(shanghai) >= 2
    assert (shanghai["latitude"] - 31.23).abs().max() < 0.2
    assert shanghai[["latitude", "longitude"]].drop_duplicates().shape[0] == len(shanghai)


def test_trim_prices_have_realistic_margins(group: DemoGroup) -> None:
    trims = group.trims
    margin = (trims["msrp_cny"] - trims["cost_cny"]) / trims["msrp_cny"]
    assert margin.between(0.009, 0.081).all()
    assert (trims["holding_cost_cny_per_day"] > 0).all()
    assert set(trims["powertrain"]) <= {"ICE", "HEV", "PHEV", "BEV"}
    tesla = group.brands.loc[group.brands["name"] == "Tesla", "brand_id"].item()
    assert set(trims.loc[trims["brand_id"] == tesla, "powertrain"]) == {"BEV"}


# --- sales ------------------------------------------------------------------------------------


def test_sales_cover_every_authorised_pair_for_every_week(group: DemoGroup) -> None:
    sales = group.sales
    trim_brand = _trim_brand(group)
    brands_of = _brands_of(group)
    assert all(
        trim_brand[t] in brands_of[s]
        for s, t in zip(sales["store_id"], sales["trim_id"], strict=True)
    )
    pairs = sum(int((group.trims["brand_id"].isin(brands)).sum()) for brands in brands_of.values())
    assert len(sales) == pairs * SPEC.weeks
    weeks = sorted(set(sales["week_start"]))
    expected = [
        (SPEC.history_end - timedelta(weeks=SPEC.weeks - i)).isoformat() for i in range(SPEC.weeks)
    ]
    assert weeks == expected
    assert all(date.fromisoformat(w).weekday() == 0 for w in weeks)
    assert (sales["units"] >= 0).all()


def _series(group: DemoGroup) -> pd.DataFrame:
    return group.sales.pivot(index=["store_id", "trim_id"], columns="week_start", values="units")


def test_some_series_are_intermittent_and_some_trims_launched_recently(group: DemoGroup) -> None:
    series = _series(group)
    zero_share = (series == 0).mean(axis=1)
    assert (zero_share > 0.8).sum() >= 3
    assert (zero_share < 0.2).sum() >= 50  # and plenty of regular sellers
    by_trim = series.groupby(level="trim_id").sum()
    first_half = by_trim.iloc[:, : SPEC.weeks // 2].sum(axis=1)
    last_weeks = by_trim.iloc[:, -10:].sum(axis=1)
    assert ((first_half == 0) & (last_weeks > 0)).sum() >= 2


def _brand_weekly(group: DemoGroup) -> pd.DataFrame:
    sales = group.sales.assign(brand_id=group.sales["trim_id"].map(_trim_brand(group)))
    return sales.groupby(["week_start", "brand_id"])["units"].sum().unstack("brand_id")


def _source_monthly() -> pd.DataFrame:
    raw = pd.read_csv(SOURCE_CSV)
    raw["month"] = raw["Year"].astype(str) + "-" + raw["Month"].map("{:02d}".format)
    return raw.pivot_table(index="month", columns="Make", values="Quantity", aggfunc="sum")


def test_brand_totals_follow_their_source_make(group: DemoGroup) -> None:
    """De-calendared monthly brand sales correlate with the Norway make that shapes them,
    month for month, ten years earlier (the default history ends in October 2026)."""
    weekly = _brand_weekly(group)
    week_starts = pd.to_datetime(weekly.index)
    calendar = calendar_factors(week_starts[0].date(), len(week_starts))
    per_week = weekly.div(calendar, axis=0)
    per_week.index = (week_starts + pd.Timedelta(days=3)).strftime("%Y-%m")  # by Thursday
    monthly = per_week.groupby(level=0).mean().iloc[1:-1]  # drop the partial end months
    source_months = [f"{int(m[:4]) - 10}{m[4:]}" for m in monthly.index]
    source = _source_monthly().reindex(source_months).fillna(0.0)
    days = pd.PeriodIndex(source_months, freq="M").days_in_month.to_numpy()
    correlations = {}
    for brand_id, make in group.brands[["brand_id", "source_make"]].itertuples(index=False):
        rate = source[make].to_numpy() / days
        correlations[brand_id] = np.corrcoef(monthly[brand_id].to_numpy(), rate)[0, 1]
        if monthly[brand_id].mean() >= 100:  # big enough for sampling noise to be small
            assert correlations[brand_id] > 0.75, (make, correlations[brand_id])
    assert np.median(list(correlations.values())) > 0.88
    # and not with a different make: Tesla's quarter-end spikes are its own
    tesla = group.brands.loc[group.brands["name"] == "Tesla", "brand_id"].item()
    other = np.corrcoef(monthly[tesla].to_numpy(), source["Toyota"].to_numpy() / days)[0, 1]
    assert correlations[tesla] > 0.9 > other + 0.3


def test_electric_brand_grows_like_its_source(group: DemoGroup) -> None:
    weekly = _brand_weekly(group)
    byd = group.brands.loc[group.brands["name"] == "BYD", "brand_id"].item()
    assert weekly[byd].iloc[-52:].sum() > 1.5 * weekly[byd].iloc[:52].sum()


def test_spring_festival_weeks_dip_below_their_neighbours(group: DemoGroup) -> None:
    total = group.sales.groupby("week_start")["units"].sum()
    weeks = [date.fromisoformat(w) for w in total.index]
    cn = holidays.country_holidays("CN", years=range(weeks[0].year, weeks[-1].year + 1))
    festivals = sorted(
        {
            min(d for d, n in cn.items() if d.year == year and "Spring Festival" in n)
            for year in range(weeks[0].year, weeks[-1].year + 1)
        }
    )
    checked = 0
    for festival in festivals:
        i = next((k for k, w in enumerate(weeks) if w <= festival < w + timedelta(days=7)), None)
        if i is None or i < 6 or i + 7 > len(weeks):
            continue
        dip = min(total.iloc[i], total.iloc[i + 1])
        neighbours = np.median(np.r_[total.iloc[i - 6 : i - 2], total.iloc[i + 3 : i + 7]])
        assert dip < 0.7 * neighbours, (festival, dip, neighbours)
        checked += 1
    assert checked >= 2


def test_calendar_factors_mark_the_chinese_retail_calendar() -> None:
    def week_of(day: date) -> float:
        monday = day - timedelta(days=day.weekday())
        return float(calendar_factors(monday, 1)[0])

    assert week_of(date(2026, 2, 18)) < 0.6  # Spring Festival 2026-02-17
    assert week_of(date(2025, 1, 30)) < 0.6  # Spring Festival 2025-01-29
    assert week_of(date(2026, 1, 28)) > 1.15  # pre-festival buying
    assert week_of(date(2025, 10, 2)) > 1.2  # National Day golden week
    assert week_of(date(2025, 5, 1)) > 1.1  # Labour Day
    assert week_of(date(2025, 12, 24)) > 1.2  # year-end push
    assert week_of(date(2025, 7, 16)) == 1.0


# --- stock and the OEM offer ------------------------------------------------------------------


def _check_digit(vin: str) -> str:
    values = {str(d): d for d in range(10)}
    values.update(zip("ABCDEFGH", range(1, 9), strict=True))
    values.update(zip("JKLMN", range(1, 6), strict=True))
    values.update({"P": 7, "R": 9})
    values.update(zip("STUVWXYZ", range(2, 10), strict=True))
    weights = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
    remainder = sum(values[c] * w for c, w in zip(vin, weights, strict=True)) % 11
    return "X" if remainder == 10 else str(remainder)


def test_vins_are_unique_valid_and_checked(group: DemoGroup) -> None:
    vins = group.inventory["vin"]
    assert vins.is_unique
    assert vins.str.fullmatch(r"[A-HJ-NPR-Z0-9]{17}").all()
    assert all(vin[8] == _check_digit(vin) for vin in vins)


def test_inventory_respects_authorisations_and_lots(group: DemoGroup) -> None:
    inventory = group.inventory
    trim_brand = _trim_brand(group)
    brands_of = _brands_of(group)
    assert all(
        trim_brand[t] in brands_of[s]
        for s, t in zip(inventory["store_id"], inventory["trim_id"], strict=True)
    )
    count = inventory.groupby("store_id").size()
    lot = group.stores.set_index("store_id")["lot_capacity"]
    assert (count <= lot.reindex(count.index)).all()
    assert set(inventory["status"]) == {"IN_STOCK", "IN_TRANSIT"}


def test_stock_is_a_few_weeks_of_sales_with_a_slow_moving_tail(group: DemoGroup) -> None:
    inventory = group.inventory
    arrival = pd.to_datetime(inventory["arrival_date"])
    end = pd.Timestamp(SPEC.history_end)
    in_stock = inventory["status"] == "IN_STOCK"
    assert (arrival[in_stock] < end).all()
    assert (arrival[~in_stock] >= end).all()
    slow_share = ((end - arrival[in_stock]).dt.days > 90).mean()
    assert 0.10 <= slow_share <= 0.20
    recent = group.sales[
        group.sales["week_start"] >= (end - pd.Timedelta(weeks=8)).strftime("%Y-%m-%d")
    ]
    weekly = recent.groupby("store_id")["units"].sum() / 8
    weeks_of_stock = inventory.groupby("store_id").size() / weekly
    assert weeks_of_stock.between(1, 8).mean() > 0.9
    assert 2 <= weeks_of_stock.median() <= 5


def test_oem_offer_spans_the_offer_weeks_and_targets_are_reachable(group: DemoGroup) -> None:
    offers = group.oem_offers
    weeks = [(SPEC.history_end + timedelta(weeks=i)).isoformat() for i in range(SPEC.offer_weeks)]
    assert sorted(set(offers["week_start"])) == weeks
    assert len(offers) == SPEC.offer_weeks * len(group.trims)
    assert (offers["schedule_version"] == 1).all() and (offers["max_units"] >= 0).all()
    offered = (
        offers.assign(
            brand_id=offers["trim_id"].map(_trim_brand(group)), month=offers["week_start"].str[:7]
        )
        .groupby(["brand_id", "month"])["max_units"]
        .sum()
    )
    targets = group.brand_targets.set_index(["brand_id", "month"])
    assert set(targets.index) == set(offered.index)
    assert (targets["target_units"] <= offered.reindex(targets.index)).all()
    assert set(targets["is_hard"]) == {0, 1}


def test_bundles_pair_a_hot_trim_with_a_slow_one_of_the_same_brand(group: DemoGroup) -> None:
    bundles = group.bundles
    trim_brand = _trim_brand(group)
    recent = group.sales[
        group.sales["week_start"] >= (SPEC.history_end - timedelta(weeks=13)).isoformat()
    ]
    sold = recent.groupby("trim_id")["units"].sum()  # hot now (a new launch may be hot)
    assert len(bundles) >= len(group.brands)
    assert (bundles["hot_units_per_slow"] >= 1).all()
    for hot, slow, _ in bundles.itertuples(index=False):
        assert trim_brand[hot] == trim_brand[slow] and hot != slow
        assert sold[hot] > sold[slow]


# --- advisors and leads ---------------------------------------------------------------------


def test_advisors_work_for_their_store_brands(group: DemoGroup) -> None:
    advisors = group.advisors
    brands_of = _brands_of(group)
    per_store = advisors.groupby("store_id").size()
    assert set(per_store.index) == set(group.stores["store_id"])
    assert per_store.between(4, 10).all()
    for store_id, brand_ids in advisors[["store_id", "brand_ids"]].itertuples(index=False):
        certified = set(brand_ids.split(";"))
        assert certified and certified <= brands_of[store_id]
    covered = advisors.assign(brand_id=advisors["brand_ids"].str.split(";")).explode("brand_id")
    assert set(map(tuple, covered[["store_id", "brand_id"]].to_numpy())) == {
        (s, b) for s, brands in brands_of.items() for b in brands
    }
    assert (advisors["conversions_90d"] <= advisors["leads_90d"]).all()
    assert advisors["level"].between(1, 5).all()
    assert advisors["shift_start"].str.fullmatch(r"\d\d:\d\d").all()


def test_leads_respect_authorisations_and_their_advisors(group: DemoGroup) -> None:
    leads = group.leads
    brands_of = _brands_of(group)
    assert all(b in brands_of[s] for s, b in zip(leads["store_id"], leads["brand_id"], strict=True))
    models = set(map(tuple, group.trims[["brand_id", "model"]].to_numpy()))
    assert set(map(tuple, leads[["brand_id", "model"]].to_numpy())) <= models
    advisors = group.advisors.set_index("advisor_id")
    assigned = leads[leads["advisor_id"] != ""]
    adv = advisors.loc[assigned["advisor_id"]]
    assert (adv["store_id"].to_numpy() == assigned["store_id"].to_numpy()).all()
    assert all(
        b in ids.split(";") for b, ids in zip(assigned["brand_id"], adv["brand_ids"], strict=True)
    )


def test_lead_times_are_utc_recent_and_peak_in_the_evening_and_at_weekends(
    group: DemoGroup,
) -> None:
    created = group.leads["created_at"]
    assert created.str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").all()
    utc = pd.to_datetime(created.str[:-1])
    end = pd.Timestamp(SPEC.history_end) - pd.Timedelta(hours=8)  # Beijing midnight in UTC
    assert utc.min() >= end - pd.Timedelta(days=SPEC.lead_days) and utc.max() < end
    beijing = utc + pd.Timedelta(hours=8)
    per_hour = beijing.dt.hour.value_counts()
    assert per_hour.reindex(range(19, 22)).mean() > 1.3 * per_hour.reindex(range(9, 12)).mean()
    per_day = beijing.dt.normalize().value_counts()
    is_weekend = pd.DatetimeIndex(per_day.index).day_of_week >= 5
    assert per_day[is_weekend].mean() > 1.2 * per_day[~is_weekend].mean()
    assert list(group.leads["lead_id"]) == sorted(group.leads["lead_id"])
    assert created.is_monotonic_increasing


def _normalise_phone(raw: str) -> str:
    digits = re.sub(r"\D", "", raw)
    return digits[-11:] if digits.startswith(("86", "0086")) else digits


def test_phones_come_in_mixed_forms_and_some_customers_return(group: DemoGroup) -> None:
    phones = group.leads["phone"]
    forms = {
        "plain": r"1\d{10}",
        "spaced": r"\+86 1\d\d \d{4} \d{4}",
        "dashed": r"\+86-1\d\d-\d{4}-\d{4}",
        "0086": r"0086 1\d{10}",
    }
    matched = pd.Series(False, index=phones.index)
    for pattern in forms.values():
        hits = phones.str.fullmatch(pattern)
        assert hits.sum() > 0, pattern
        matched |= hits
    assert matched.all()
    normalised = phones.map(_normalise_phone)
    assert normalised.str.fullmatch(r"1\d{10}").all()
    raw_forms = phones.groupby(normalised).nunique()
    assert (raw_forms >= 2).sum() > 0.02 * len(phones)  # returning customers, rewritten
    assert (group.leads["wechat_id"] == "").mean() > 0.5


def test_lead_outcomes_depend_on_grade_and_open_leads_are_recent(group: DemoGroup) -> None:
    leads = group.leads
    assert set(leads["converted"]) == {"1", "0", ""}
    closed = leads[leads["converted"] != ""]
    rate = (closed["converted"] == "1").groupby(closed["grade"]).mean()
    assert rate["H"] > rate["A"] > rate["B"] > rate["C"]
    assert 0.02 < (closed["converted"] == "1").mean() < 0.3
    assert 0.1 < rate["H"] < 0.4
    unassigned = leads[leads["advisor_id"] == ""]
    assert len(unassigned) > 0 and (unassigned["converted"] == "").all()
    newest = pd.to_datetime(leads["created_at"].str[:-1]).max()
    assert (pd.to_datetime(unassigned["created_at"].str[:-1]) > newest - pd.Timedelta(days=2)).all()
    tags = {t for value in leads["tags"] for t in value.split(";") if t}
    assert {"test_drive_request", "price_inquiry", "finance_inquiry"} <= tags


# --- CSV round trip and validation ------------------------------------------------------------


def test_write_read_round_trip(group: DemoGroup, csv_dir: Path) -> None:
    back = read_csv(csv_dir)
    assert back.spec == group.spec
    for table in TABLES:
        pd.testing.assert_frame_equal(back.table(table.name), group.table(table.name))
    manifest = json.loads((csv_dir / "manifest.json").read_text())
    assert manifest["row_counts"] == group.row_counts()
    assert manifest["spec"]["history_end"] == "2026-11-02"


def _copy(src: Path, dst: Path) -> Path:
    for path in src.iterdir():
        (dst / path.name).write_bytes(path.read_bytes())
    return dst


def test_read_csv_names_a_missing_file(csv_dir: Path, tmp_path: Path) -> None:
    (_copy(csv_dir, tmp_path) / "bundles.csv").unlink()
    with pytest.raises(InvalidArgument) as err:
        read_csv(tmp_path)
    assert err.value.field == "bundles.csv"


def test_read_csv_names_a_missing_column(csv_dir: Path, tmp_path: Path) -> None:
    _copy(csv_dir, tmp_path)
    stores = pd.read_csv(tmp_path / "stores.csv").drop(columns=["lot_capacity"])
    stores.to_csv(tmp_path / "stores.csv", index=False)
    with pytest.raises(InvalidArgument) as err:
        read_csv(tmp_path)
    assert err.value.field == "stores.csv:lot_capacity"


def test_read_csv_rejects_a_blank_in_an_integer_column(csv_dir: Path, tmp_path: Path) -> None:
    _copy(csv_dir, tmp_path)
    trims = (tmp_path / "trims.csv").read_text().splitlines()
    cells = trims[1].split(",")
    cells[5] = ""  # msrp_cny
    trims[1] = ",".join(cells)
    (tmp_path / "trims.csv").write_text("\n".join(trims) + "\n")
    with pytest.raises(InvalidArgument) as err:
        read_csv(tmp_path)
    assert err.value.field == "trims.csv:msrp_cny"


def test_read_csv_requires_the_manifest(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument) as err:
        read_csv(tmp_path)
    assert err.value.field == "manifest.json"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("stores", 0),
        ("stores", 2001),
        ("stores", True),
        ("trims", 15),  # fewer than the 16 brands of a 60-store group
        ("trims", 1001),
        ("seed", -1),
        ("weeks", 7),
        ("weeks", 417),
        ("history_end", date(2026, 11, 3)),  # a Tuesday
        ("history_end", datetime(2026, 11, 2, tzinfo=UTC)),
        ("history_end", date(2005, 1, 3)),
        ("offer_weeks", 0),
        ("lead_days", 91),
    ],
)
def test_invalid_spec_names_the_field(field: str, value: object) -> None:
    with pytest.raises(InvalidArgument) as err:
        DemoSpec(**{field: value})  # type: ignore[arg-type]
    assert err.value.field == field


def test_small_groups_are_consistent() -> None:
    group = generate(DemoSpec(stores=3, trims=3, weeks=8, lead_days=2, offer_weeks=1))
    assert len(group.stores) == 3 and len(group.brands) == 3 and len(group.trims) == 3
    assert set(group.authorisations["brand_id"]) == set(group.brands["brand_id"])
    assert len(group.sales) == 8 * sum(
        int(group.trims["brand_id"].isin([b]).sum()) for b in group.authorisations["brand_id"]
    )


@pytest.mark.slow
def test_large_group_has_the_expected_row_counts() -> None:
    spec = DemoSpec(stores=300, trims=200, seed=3)
    group = generate(spec)
    counts = group.row_counts()
    brand_trims = group.trims.groupby("brand_id").size()
    pairs = int(group.authorisations["brand_id"].map(brand_trims).sum())
    assert counts["stores"] == 300 and counts["trims"] == 200
    assert counts["sales"] == pairs * spec.weeks
    assert counts["oem_offers"] == 200 * spec.offer_weeks
    assert counts["brand_targets"] == len(group.brands) * 2  # Nov and Dec 2026
    assert 4 * 300 <= counts["advisors"] <= 10 * 300
    assert group.inventory["vin"].is_unique
    lot = group.stores.set_index("store_id")["lot_capacity"]
    stock = group.inventory.groupby("store_id").size()
    assert (stock <= lot.reindex(stock.index)).all()

"""A deterministic demo dealer group: generate it, write it as CSV, read it back.

``generate(DemoSpec(...))`` draws a whole multi-brand dealer group (regions, stores, brands,
trims, stock, three years of weekly sales, the OEM's offer, advisors and recent leads) whose
sales take their shape from real monthly sales by make (Norway 2007-2017) under the Chinese
retail calendar. Only ``numpy.random.default_rng`` seeded from ``spec.seed`` is used (one
independent stream per stage), so the same spec always gives the same tables and
byte-identical CSV files.

The stages live in ``demo_network`` (regions, stores, brands, authorisations, trims),
``demo_sales``, ``demo_supply`` (lots, stock, OEM offer) and ``demo_leads``; the tables and
their columns are declared in ``dealer_group.schema``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dealer_group.demo_catalogue import brand_count
from dealer_group.demo_leads import build_people
from dealer_group.demo_network import build_network
from dealer_group.demo_sales import simulate_sales
from dealer_group.demo_supply import build_supply
from dealer_group.schema import COLUMN_TYPES, TABLES, ColumnType, conform
from turnwise.errors import InvalidArgument

__all__ = ["MANIFEST", "DemoGroup", "DemoSpec", "generate", "read_csv", "write_csv"]

MANIFEST = "manifest.json"
_FORMAT = "turnwise-dealer-group"
_FORMAT_VERSION = 1


@dataclass(frozen=True)
class DemoSpec:
    """What to generate. Validated when built: a bad value raises ``InvalidArgument``
    naming the field."""

    stores: int = 60
    trims: int = 120
    seed: int = 0
    weeks: int = 156
    history_end: date = date(2026, 11, 2)
    offer_weeks: int = 8
    lead_days: int = 28

    def __post_init__(self) -> None:
        _require_int("stores", self.stores, 1, 2000)
        brands = brand_count(self.stores)
        _require_int("trims", self.trims, brands, 1000, f" (one trim per brand: {brands} brands)")
        _require_int("seed", self.seed, 0, 2**63 - 1)
        _require_int("weeks", self.weeks, 8, 416)
        _require_int("offer_weeks", self.offer_weeks, 1, 26)
        _require_int("lead_days", self.lead_days, 1, 90)
        end = self.history_end
        if type(end) is not date:  # a datetime is a date too, but not a day
            raise InvalidArgument("history_end", f"must be a datetime.date, got {end!r}")
        if end.weekday() != 0:
            raise InvalidArgument(
                "history_end", f"{end.isoformat()} is a {end:%A}; it must be a Monday"
            )
        if not 2011 <= end.year <= 2099:
            raise InvalidArgument("history_end", f"year must be within [2011, 2099], got {end}")


def _require_int(field: str, value: object, lo: int, hi: int, why: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(field, f"must be an integer, got {value!r}")
    if not lo <= int(value) <= hi:
        raise InvalidArgument(field, f"must be within [{lo}, {hi}]{why}, got {value}")


@dataclass(frozen=True, eq=False)
class DemoGroup:
    """A dealer group: one frame per table of ``dealer_group.schema.TABLES`` (exactly its
    columns and types), and the spec it was generated from."""

    spec: DemoSpec
    regions: pd.DataFrame
    stores: pd.DataFrame
    brands: pd.DataFrame
    authorisations: pd.DataFrame
    trims: pd.DataFrame
    inventory: pd.DataFrame
    sales: pd.DataFrame
    oem_offers: pd.DataFrame
    brand_targets: pd.DataFrame
    bundles: pd.DataFrame
    advisors: pd.DataFrame
    leads: pd.DataFrame

    def table(self, name: str) -> pd.DataFrame:
        """The frame of the table called ``name``."""
        if name not in {t.name for t in TABLES}:
            raise InvalidArgument("table", f"no table {name!r}")
        frame: pd.DataFrame = getattr(self, name)
        return frame

    def row_counts(self) -> dict[str, int]:
        return {t.name: len(self.table(t.name)) for t in TABLES}


def generate(spec: DemoSpec) -> DemoGroup:
    """Draw the dealer group described by ``spec`` (deterministic in ``spec``)."""
    network_rng, sales_rng, supply_rng, people_rng = (
        np.random.default_rng(child) for child in np.random.SeedSequence(spec.seed).spawn(4)
    )
    network = build_network(spec.stores, spec.trims, spec.weeks, network_rng)
    demand = simulate_sales(network, spec.weeks, spec.history_end, sales_rng)
    supply = build_supply(network, demand, spec.history_end, spec.offer_weeks, supply_rng)
    people = build_people(network, demand, spec.history_end, spec.lead_days, people_rng)
    frames = {
        "regions": network.regions,
        "stores": supply.stores,
        "brands": network.brands,
        "authorisations": network.authorisations,
        "trims": network.trims,
        "inventory": supply.inventory,
        "sales": demand.sales,
        "oem_offers": supply.oem_offers,
        "brand_targets": supply.brand_targets,
        "bundles": supply.bundles,
        "advisors": people.advisors,
        "leads": people.leads,
    }
    return DemoGroup(spec=spec, **{t.name: conform(frames[t.name], t) for t in TABLES})


def write_csv(group: DemoGroup, out_dir: Path) -> list[Path]:
    """Write one ``<table>.csv`` per table and ``manifest.json`` (the spec and the row
    counts) into ``out_dir`` (created if needed); return the paths written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for table in TABLES:
        path = out_dir / table.file_name
        group.table(table.name).to_csv(path, index=False, lineterminator="\n")
        paths.append(path)
    manifest = {
        "format": _FORMAT,
        "version": _FORMAT_VERSION,
        "spec": {**asdict(group.spec), "history_end": group.spec.history_end.isoformat()},
        "row_counts": group.row_counts(),
    }
    path = out_dir / MANIFEST
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    paths.append(path)
    return paths


def read_csv(in_dir: Path) -> DemoGroup:
    """Read a directory written by ``write_csv``. A missing file, column or row, or a value
    of the wrong type, raises ``InvalidArgument`` naming the file (and column)."""
    in_dir = Path(in_dir)
    manifest = _read_manifest(in_dir)
    spec = _spec_from(manifest.get("spec"))
    counts = manifest.get("row_counts", {})
    frames: dict[str, pd.DataFrame] = {}
    for table in TABLES:
        path = in_dir / table.file_name
        if not path.is_file():
            raise InvalidArgument(
                table.file_name, f"not found in {in_dir}; write it with write_csv"
            )
        text = {c: str for c in table.columns if COLUMN_TYPES[c] is ColumnType.TEXT}
        try:
            raw = pd.read_csv(path, dtype=text, keep_default_na=False)
        except (ValueError, pd.errors.ParserError) as err:
            raise InvalidArgument(table.file_name, f"is not a readable CSV: {err}") from err
        frames[table.name] = conform(raw, table)
        expected = counts.get(table.name)
        if expected is not None and expected != len(raw):
            raise InvalidArgument(
                table.file_name, f"has {len(raw)} rows but {MANIFEST} says {expected}"
            )
    return DemoGroup(spec=spec, **frames)


def _read_manifest(in_dir: Path) -> dict[str, Any]:
    path = in_dir / MANIFEST
    if not path.is_file():
        raise InvalidArgument(MANIFEST, f"not found in {in_dir}; write the group with write_csv")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise InvalidArgument(MANIFEST, f"is not valid JSON: {err}") from err
    if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
        raise InvalidArgument(MANIFEST, f"is not a {_FORMAT} manifest")
    return manifest


def _spec_from(raw: object) -> DemoSpec:
    names = {f.name for f in fields(DemoSpec)}
    if not isinstance(raw, dict) or set(raw) != names:
        raise InvalidArgument(f"{MANIFEST}:spec", f"must hold exactly {', '.join(sorted(names))}")
    values = dict(raw)
    try:
        values["history_end"] = date.fromisoformat(str(values["history_end"]))
    except ValueError as err:
        raise InvalidArgument(f"{MANIFEST}:spec.history_end", str(err)) from err
    return DemoSpec(**values)

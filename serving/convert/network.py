"""NetworkService: protobuf requests <-> dealer network records and summaries."""

from __future__ import annotations

from dealer_group import records as r
from serving.convert.common import (
    build_each,
    date_from_pb,
    date_to_pb,
    enum_from_pb,
    timestamp_from_pb,
)
from serving.store.network import NetworkSummary
from turnwise.errors import InvalidArgument
from turnwise.v1 import network_pb2 as pb

__all__ = [
    "advisors_from_pb",
    "brands_from_pb",
    "lead_from_pb",
    "leads_from_pb",
    "regions_from_pb",
    "sales_from_pb",
    "schedule_from_chunks",
    "stores_from_pb",
    "summary_to_response",
    "trims_from_pb",
    "vehicles_from_pb",
]


def regions_from_pb(req: pb.UpsertRegionsRequest) -> list[r.Region]:
    return build_each("regions", req.regions, lambda m: r.Region(m.region_id, m.name))


def brands_from_pb(req: pb.UpsertBrandsRequest) -> list[r.Brand]:
    return build_each("brands", req.brands, lambda m: r.Brand(m.brand_id, m.name, m.is_nev))


def _store(m: pb.Store) -> r.Store:
    return r.Store(
        store_id=m.store_id,
        name=m.name,
        region_id=m.region_id,
        city=m.city,
        store_type=enum_from_pb(
            "store_type", m.store_type, pb.StoreType, r.StoreType, "STORE_TYPE_"
        ),
        latitude=m.latitude,
        longitude=m.longitude,
        lot_capacity=m.lot_capacity,
        credit_limit_cny=m.credit_limit_cny,
        authorised_brand_ids=tuple(m.authorised_brand_ids),
    )


def stores_from_pb(req: pb.UpsertStoresRequest) -> list[r.Store]:
    return build_each("stores", req.stores, _store)


def _trim(m: pb.Trim) -> r.Trim:
    return r.Trim(
        trim_id=m.trim_id,
        brand_id=m.brand_id,
        model=m.model,
        trim=m.trim,
        powertrain=enum_from_pb(
            "powertrain", m.powertrain, pb.Powertrain, r.Powertrain, "POWERTRAIN_"
        ),
        msrp_cny=m.msrp_cny,
        cost_cny=m.cost_cny,
        holding_cost_cny_per_day=m.holding_cost_cny_per_day,
    )


def trims_from_pb(req: pb.UpsertTrimsRequest) -> list[r.Trim]:
    return build_each("trims", req.trims, _trim)


def _vehicle(m: pb.Vehicle) -> r.Vehicle:
    return r.Vehicle(
        vin=m.vin,
        store_id=m.store_id,
        trim_id=m.trim_id,
        colour=m.colour,
        arrival_date=date_from_pb("arrival_date", m.arrival_date),
        status=enum_from_pb(
            "status", m.status, pb.VehicleStatus, r.VehicleStatus, "VEHICLE_STATUS_"
        ),
        cost_cny=m.cost_cny,
    )


def vehicles_from_pb(req: pb.UpsertVehiclesRequest) -> list[r.Vehicle]:
    return build_each("vehicles", req.vehicles, _vehicle)


def sales_from_pb(req: pb.RecordSalesRequest) -> list[r.WeeklySales]:
    return build_each(
        "sales",
        req.sales,
        lambda m: r.WeeklySales(
            date_from_pb("week_start", m.week_start), m.store_id, m.trim_id, m.units
        ),
    )


def _advisor(m: pb.Advisor) -> r.Advisor:
    return r.Advisor(
        advisor_id=m.advisor_id,
        store_id=m.store_id,
        name=m.name,
        level=m.level,
        brand_ids=tuple(m.brand_ids),
        shift_start=m.shift_start,
        shift_end=m.shift_end,
        max_open_leads=m.max_open_leads,
        leads_90d=m.leads_90d,
        conversions_90d=m.conversions_90d,
    )


def advisors_from_pb(req: pb.UpsertAdvisorsRequest) -> list[r.Advisor]:
    return build_each("advisors", req.advisors, _advisor)


def lead_from_pb(m: pb.Lead) -> r.Lead:
    return r.Lead(
        lead_id=m.lead_id,
        created_at=timestamp_from_pb("created_at", m.created_at, m.HasField("created_at")),
        channel=enum_from_pb("channel", m.channel, pb.LeadChannel, r.LeadChannel, "LEAD_CHANNEL_"),
        store_id=m.store_id,
        region_id=m.region_id,
        brand_id=m.brand_id,
        model=m.model,
        grade=enum_from_pb("grade", m.grade, pb.LeadGrade, r.LeadGrade, "LEAD_GRADE_"),
        phone=m.phone,
        wechat_id=m.wechat_id,
        tags=tuple(m.tags),
        advisor_id=m.advisor_id,
        converted=m.converted if m.advisor_id else None,
    )


def leads_from_pb(req: pb.UpsertLeadsRequest) -> list[r.Lead]:
    return build_each("leads", req.leads, lead_from_pb)


def schedule_from_chunks(chunks: list[pb.ProductionScheduleChunk]) -> r.ProductionSchedule:
    """Merge the chunks of one stream into one schedule version."""
    if not chunks:
        raise InvalidArgument("chunks", "the stream closed without any chunk")
    oem, version = chunks[0].oem, chunks[0].schedule_version
    if not oem:
        raise InvalidArgument("chunks[0].oem", "is required on the first chunk")
    for i, c in enumerate(chunks[1:], start=1):
        if c.oem and c.oem != oem:
            raise InvalidArgument(
                f"chunks[{i}].oem", f"{c.oem!r} differs from the first chunk's {oem!r}"
            )
        if c.schedule_version and c.schedule_version != version:
            raise InvalidArgument(
                f"chunks[{i}].schedule_version",
                f"{c.schedule_version} differs from the first chunk's {version}",
            )
    lines = [ln for c in chunks for ln in c.lines]
    targets = [bt for c in chunks for bt in c.brand_targets]
    bundles = [b for c in chunks for b in c.bundles]
    return r.ProductionSchedule(
        oem=oem,
        version=version,
        lines=tuple(
            build_each(
                "lines",
                lines,
                lambda m: r.ScheduleLine(
                    date_from_pb("week_start", m.week_start), m.trim_id, m.max_units
                ),
            )
        ),
        brand_targets=tuple(
            build_each(
                "brand_targets",
                targets,
                lambda m: r.BrandTarget(m.brand_id, m.month, m.target_units, m.is_hard),
            )
        ),
        bundles=tuple(
            build_each(
                "bundles",
                bundles,
                lambda m: r.Bundle(m.hot_trim_id, m.slow_trim_id, m.hot_units_per_slow),
            )
        ),
    )


def summary_to_response(s: NetworkSummary) -> pb.GetNetworkSummaryResponse:
    return pb.GetNetworkSummaryResponse(
        regions=s.regions,
        brands=s.brands,
        stores=s.stores,
        trims=s.trims,
        vehicles=s.vehicles,
        sales_rows=s.sales_rows,
        advisors=s.advisors,
        leads=s.leads,
        schedule_versions=[f"{oem}:{v}" for oem, v in s.schedule_versions],
        first_sales_week=date_to_pb(s.first_sales_week),
        last_sales_week=date_to_pb(s.last_sales_week),
    )

import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from turnwise.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StoreType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STORE_TYPE_UNSPECIFIED: _ClassVar[StoreType]
    STORE_TYPE_4S: _ClassVar[StoreType]
    STORE_TYPE_SHOWROOM: _ClassVar[StoreType]
    STORE_TYPE_OUTLET: _ClassVar[StoreType]

class Powertrain(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    POWERTRAIN_UNSPECIFIED: _ClassVar[Powertrain]
    POWERTRAIN_ICE: _ClassVar[Powertrain]
    POWERTRAIN_HEV: _ClassVar[Powertrain]
    POWERTRAIN_PHEV: _ClassVar[Powertrain]
    POWERTRAIN_BEV: _ClassVar[Powertrain]

class VehicleStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VEHICLE_STATUS_UNSPECIFIED: _ClassVar[VehicleStatus]
    VEHICLE_STATUS_IN_STOCK: _ClassVar[VehicleStatus]
    VEHICLE_STATUS_IN_TRANSIT: _ClassVar[VehicleStatus]
    VEHICLE_STATUS_SOLD: _ClassVar[VehicleStatus]

class LeadChannel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LEAD_CHANNEL_UNSPECIFIED: _ClassVar[LeadChannel]
    LEAD_CHANNEL_WEB: _ClassVar[LeadChannel]
    LEAD_CHANNEL_DOUYIN: _ClassVar[LeadChannel]
    LEAD_CHANNEL_AUTOHOME: _ClassVar[LeadChannel]
    LEAD_CHANNEL_DONGCHEDI: _ClassVar[LeadChannel]
    LEAD_CHANNEL_WALK_IN: _ClassVar[LeadChannel]
    LEAD_CHANNEL_PHONE: _ClassVar[LeadChannel]

class LeadGrade(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LEAD_GRADE_UNSPECIFIED: _ClassVar[LeadGrade]
    LEAD_GRADE_H: _ClassVar[LeadGrade]
    LEAD_GRADE_A: _ClassVar[LeadGrade]
    LEAD_GRADE_B: _ClassVar[LeadGrade]
    LEAD_GRADE_C: _ClassVar[LeadGrade]
STORE_TYPE_UNSPECIFIED: StoreType
STORE_TYPE_4S: StoreType
STORE_TYPE_SHOWROOM: StoreType
STORE_TYPE_OUTLET: StoreType
POWERTRAIN_UNSPECIFIED: Powertrain
POWERTRAIN_ICE: Powertrain
POWERTRAIN_HEV: Powertrain
POWERTRAIN_PHEV: Powertrain
POWERTRAIN_BEV: Powertrain
VEHICLE_STATUS_UNSPECIFIED: VehicleStatus
VEHICLE_STATUS_IN_STOCK: VehicleStatus
VEHICLE_STATUS_IN_TRANSIT: VehicleStatus
VEHICLE_STATUS_SOLD: VehicleStatus
LEAD_CHANNEL_UNSPECIFIED: LeadChannel
LEAD_CHANNEL_WEB: LeadChannel
LEAD_CHANNEL_DOUYIN: LeadChannel
LEAD_CHANNEL_AUTOHOME: LeadChannel
LEAD_CHANNEL_DONGCHEDI: LeadChannel
LEAD_CHANNEL_WALK_IN: LeadChannel
LEAD_CHANNEL_PHONE: LeadChannel
LEAD_GRADE_UNSPECIFIED: LeadGrade
LEAD_GRADE_H: LeadGrade
LEAD_GRADE_A: LeadGrade
LEAD_GRADE_B: LeadGrade
LEAD_GRADE_C: LeadGrade

class Region(_message.Message):
    __slots__ = ("region_id", "name")
    REGION_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    region_id: str
    name: str
    def __init__(self, region_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class UpsertRegionsRequest(_message.Message):
    __slots__ = ("idempotency_key", "regions")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    regions: _containers.RepeatedCompositeFieldContainer[Region]
    def __init__(self, idempotency_key: _Optional[str] = ..., regions: _Optional[_Iterable[_Union[Region, _Mapping]]] = ...) -> None: ...

class UpsertRegionsResponse(_message.Message):
    __slots__ = ("summary",)
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    summary: _common_pb2.WriteSummary
    def __init__(self, summary: _Optional[_Union[_common_pb2.WriteSummary, _Mapping]] = ...) -> None: ...

class Brand(_message.Message):
    __slots__ = ("brand_id", "name", "is_nev")
    BRAND_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    IS_NEV_FIELD_NUMBER: _ClassVar[int]
    brand_id: str
    name: str
    is_nev: bool
    def __init__(self, brand_id: _Optional[str] = ..., name: _Optional[str] = ..., is_nev: _Optional[bool] = ...) -> None: ...

class UpsertBrandsRequest(_message.Message):
    __slots__ = ("idempotency_key", "brands")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    BRANDS_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    brands: _containers.RepeatedCompositeFieldContainer[Brand]
    def __init__(self, idempotency_key: _Optional[str] = ..., brands: _Optional[_Iterable[_Union[Brand, _Mapping]]] = ...) -> None: ...

class UpsertBrandsResponse(_message.Message):
    __slots__ = ("summary",)
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    summary: _common_pb2.WriteSummary
    def __init__(self, summary: _Optional[_Union[_common_pb2.WriteSummary, _Mapping]] = ...) -> None: ...

class Store(_message.Message):
    __slots__ = ("store_id", "name", "region_id", "city", "store_type", "latitude", "longitude", "lot_capacity", "credit_limit_cny", "authorised_brand_ids")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REGION_ID_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    STORE_TYPE_FIELD_NUMBER: _ClassVar[int]
    LATITUDE_FIELD_NUMBER: _ClassVar[int]
    LONGITUDE_FIELD_NUMBER: _ClassVar[int]
    LOT_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    CREDIT_LIMIT_CNY_FIELD_NUMBER: _ClassVar[int]
    AUTHORISED_BRAND_IDS_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    name: str
    region_id: str
    city: str
    store_type: StoreType
    latitude: float
    longitude: float
    lot_capacity: int
    credit_limit_cny: int
    authorised_brand_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, store_id: _Optional[str] = ..., name: _Optional[str] = ..., region_id: _Optional[str] = ..., city: _Optional[str] = ..., store_type: _Optional[_Union[StoreType, str]] = ..., latitude: _Optional[float] = ..., longitude: _Optional[float] = ..., lot_capacity: _Optional[int] = ..., credit_limit_cny: _Optional[int] = ..., authorised_brand_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class UpsertStoresRequest(_message.Message):
    __slots__ = ("idempotency_key", "stores")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    STORES_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    stores: _containers.RepeatedCompositeFieldContainer[Store]
    def __init__(self, idempotency_key: _Optional[str] = ..., stores: _Optional[_Iterable[_Union[Store, _Mapping]]] = ...) -> None: ...

class UpsertStoresResponse(_message.Message):
    __slots__ = ("summary",)
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    summary: _common_pb2.WriteSummary
    def __init__(self, summary: _Optional[_Union[_common_pb2.WriteSummary, _Mapping]] = ...) -> None: ...

class Trim(_message.Message):
    __slots__ = ("trim_id", "brand_id", "model", "trim", "powertrain", "msrp_cny", "cost_cny", "holding_cost_cny_per_day")
    TRIM_ID_FIELD_NUMBER: _ClassVar[int]
    BRAND_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    TRIM_FIELD_NUMBER: _ClassVar[int]
    POWERTRAIN_FIELD_NUMBER: _ClassVar[int]
    MSRP_CNY_FIELD_NUMBER: _ClassVar[int]
    COST_CNY_FIELD_NUMBER: _ClassVar[int]
    HOLDING_COST_CNY_PER_DAY_FIELD_NUMBER: _ClassVar[int]
    trim_id: str
    brand_id: str
    model: str
    trim: str
    powertrain: Powertrain
    msrp_cny: int
    cost_cny: int
    holding_cost_cny_per_day: float
    def __init__(self, trim_id: _Optional[str] = ..., brand_id: _Optional[str] = ..., model: _Optional[str] = ..., trim: _Optional[str] = ..., powertrain: _Optional[_Union[Powertrain, str]] = ..., msrp_cny: _Optional[int] = ..., cost_cny: _Optional[int] = ..., holding_cost_cny_per_day: _Optional[float] = ...) -> None: ...

class UpsertTrimsRequest(_message.Message):
    __slots__ = ("idempotency_key", "trims")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    TRIMS_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    trims: _containers.RepeatedCompositeFieldContainer[Trim]
    def __init__(self, idempotency_key: _Optional[str] = ..., trims: _Optional[_Iterable[_Union[Trim, _Mapping]]] = ...) -> None: ...

class UpsertTrimsResponse(_message.Message):
    __slots__ = ("summary",)
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    summary: _common_pb2.WriteSummary
    def __init__(self, summary: _Optional[_Union[_common_pb2.WriteSummary, _Mapping]] = ...) -> None: ...

class Vehicle(_message.Message):
    __slots__ = ("vin", "store_id", "trim_id", "colour", "arrival_date", "status", "cost_cny")
    VIN_FIELD_NUMBER: _ClassVar[int]
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    TRIM_ID_FIELD_NUMBER: _ClassVar[int]
    COLOUR_FIELD_NUMBER: _ClassVar[int]
    ARRIVAL_DATE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    COST_CNY_FIELD_NUMBER: _ClassVar[int]
    vin: str
    store_id: str
    trim_id: str
    colour: str
    arrival_date: _common_pb2.Date
    status: VehicleStatus
    cost_cny: int
    def __init__(self, vin: _Optional[str] = ..., store_id: _Optional[str] = ..., trim_id: _Optional[str] = ..., colour: _Optional[str] = ..., arrival_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., status: _Optional[_Union[VehicleStatus, str]] = ..., cost_cny: _Optional[int] = ...) -> None: ...

class UpsertVehiclesRequest(_message.Message):
    __slots__ = ("idempotency_key", "vehicles")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    VEHICLES_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    vehicles: _containers.RepeatedCompositeFieldContainer[Vehicle]
    def __init__(self, idempotency_key: _Optional[str] = ..., vehicles: _Optional[_Iterable[_Union[Vehicle, _Mapping]]] = ...) -> None: ...

class UpsertVehiclesResponse(_message.Message):
    __slots__ = ("summary",)
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    summary: _common_pb2.WriteSummary
    def __init__(self, summary: _Optional[_Union[_common_pb2.WriteSummary, _Mapping]] = ...) -> None: ...

class WeeklySales(_message.Message):
    __slots__ = ("week_start", "store_id", "trim_id", "units")
    WEEK_START_FIELD_NUMBER: _ClassVar[int]
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    TRIM_ID_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    week_start: _common_pb2.Date
    store_id: str
    trim_id: str
    units: int
    def __init__(self, week_start: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., store_id: _Optional[str] = ..., trim_id: _Optional[str] = ..., units: _Optional[int] = ...) -> None: ...

class RecordSalesRequest(_message.Message):
    __slots__ = ("idempotency_key", "sales")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    SALES_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    sales: _containers.RepeatedCompositeFieldContainer[WeeklySales]
    def __init__(self, idempotency_key: _Optional[str] = ..., sales: _Optional[_Iterable[_Union[WeeklySales, _Mapping]]] = ...) -> None: ...

class RecordSalesResponse(_message.Message):
    __slots__ = ("summary",)
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    summary: _common_pb2.WriteSummary
    def __init__(self, summary: _Optional[_Union[_common_pb2.WriteSummary, _Mapping]] = ...) -> None: ...

class Advisor(_message.Message):
    __slots__ = ("advisor_id", "store_id", "name", "level", "brand_ids", "shift_start", "shift_end", "max_open_leads", "leads_90d", "conversions_90d")
    ADVISOR_ID_FIELD_NUMBER: _ClassVar[int]
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    BRAND_IDS_FIELD_NUMBER: _ClassVar[int]
    SHIFT_START_FIELD_NUMBER: _ClassVar[int]
    SHIFT_END_FIELD_NUMBER: _ClassVar[int]
    MAX_OPEN_LEADS_FIELD_NUMBER: _ClassVar[int]
    LEADS_90D_FIELD_NUMBER: _ClassVar[int]
    CONVERSIONS_90D_FIELD_NUMBER: _ClassVar[int]
    advisor_id: str
    store_id: str
    name: str
    level: int
    brand_ids: _containers.RepeatedScalarFieldContainer[str]
    shift_start: str
    shift_end: str
    max_open_leads: int
    leads_90d: int
    conversions_90d: int
    def __init__(self, advisor_id: _Optional[str] = ..., store_id: _Optional[str] = ..., name: _Optional[str] = ..., level: _Optional[int] = ..., brand_ids: _Optional[_Iterable[str]] = ..., shift_start: _Optional[str] = ..., shift_end: _Optional[str] = ..., max_open_leads: _Optional[int] = ..., leads_90d: _Optional[int] = ..., conversions_90d: _Optional[int] = ...) -> None: ...

class UpsertAdvisorsRequest(_message.Message):
    __slots__ = ("idempotency_key", "advisors")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    ADVISORS_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    advisors: _containers.RepeatedCompositeFieldContainer[Advisor]
    def __init__(self, idempotency_key: _Optional[str] = ..., advisors: _Optional[_Iterable[_Union[Advisor, _Mapping]]] = ...) -> None: ...

class UpsertAdvisorsResponse(_message.Message):
    __slots__ = ("summary",)
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    summary: _common_pb2.WriteSummary
    def __init__(self, summary: _Optional[_Union[_common_pb2.WriteSummary, _Mapping]] = ...) -> None: ...

class Lead(_message.Message):
    __slots__ = ("lead_id", "created_at", "channel", "store_id", "region_id", "brand_id", "model", "grade", "phone", "wechat_id", "tags", "advisor_id", "converted")
    LEAD_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_ID_FIELD_NUMBER: _ClassVar[int]
    BRAND_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    GRADE_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    WECHAT_ID_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    ADVISOR_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERTED_FIELD_NUMBER: _ClassVar[int]
    lead_id: str
    created_at: _timestamp_pb2.Timestamp
    channel: LeadChannel
    store_id: str
    region_id: str
    brand_id: str
    model: str
    grade: LeadGrade
    phone: str
    wechat_id: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    advisor_id: str
    converted: bool
    def __init__(self, lead_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., channel: _Optional[_Union[LeadChannel, str]] = ..., store_id: _Optional[str] = ..., region_id: _Optional[str] = ..., brand_id: _Optional[str] = ..., model: _Optional[str] = ..., grade: _Optional[_Union[LeadGrade, str]] = ..., phone: _Optional[str] = ..., wechat_id: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., advisor_id: _Optional[str] = ..., converted: _Optional[bool] = ...) -> None: ...

class UpsertLeadsRequest(_message.Message):
    __slots__ = ("idempotency_key", "leads")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    LEADS_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    leads: _containers.RepeatedCompositeFieldContainer[Lead]
    def __init__(self, idempotency_key: _Optional[str] = ..., leads: _Optional[_Iterable[_Union[Lead, _Mapping]]] = ...) -> None: ...

class UpsertLeadsResponse(_message.Message):
    __slots__ = ("summary",)
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    summary: _common_pb2.WriteSummary
    def __init__(self, summary: _Optional[_Union[_common_pb2.WriteSummary, _Mapping]] = ...) -> None: ...

class ScheduleLine(_message.Message):
    __slots__ = ("week_start", "trim_id", "max_units")
    WEEK_START_FIELD_NUMBER: _ClassVar[int]
    TRIM_ID_FIELD_NUMBER: _ClassVar[int]
    MAX_UNITS_FIELD_NUMBER: _ClassVar[int]
    week_start: _common_pb2.Date
    trim_id: str
    max_units: int
    def __init__(self, week_start: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., trim_id: _Optional[str] = ..., max_units: _Optional[int] = ...) -> None: ...

class BrandTarget(_message.Message):
    __slots__ = ("brand_id", "month", "target_units", "is_hard")
    BRAND_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    TARGET_UNITS_FIELD_NUMBER: _ClassVar[int]
    IS_HARD_FIELD_NUMBER: _ClassVar[int]
    brand_id: str
    month: str
    target_units: int
    is_hard: bool
    def __init__(self, brand_id: _Optional[str] = ..., month: _Optional[str] = ..., target_units: _Optional[int] = ..., is_hard: _Optional[bool] = ...) -> None: ...

class Bundle(_message.Message):
    __slots__ = ("hot_trim_id", "slow_trim_id", "hot_units_per_slow")
    HOT_TRIM_ID_FIELD_NUMBER: _ClassVar[int]
    SLOW_TRIM_ID_FIELD_NUMBER: _ClassVar[int]
    HOT_UNITS_PER_SLOW_FIELD_NUMBER: _ClassVar[int]
    hot_trim_id: str
    slow_trim_id: str
    hot_units_per_slow: int
    def __init__(self, hot_trim_id: _Optional[str] = ..., slow_trim_id: _Optional[str] = ..., hot_units_per_slow: _Optional[int] = ...) -> None: ...

class ProductionScheduleChunk(_message.Message):
    __slots__ = ("idempotency_key", "oem", "schedule_version", "lines", "brand_targets", "bundles")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    OEM_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_VERSION_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    BRAND_TARGETS_FIELD_NUMBER: _ClassVar[int]
    BUNDLES_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    oem: str
    schedule_version: int
    lines: _containers.RepeatedCompositeFieldContainer[ScheduleLine]
    brand_targets: _containers.RepeatedCompositeFieldContainer[BrandTarget]
    bundles: _containers.RepeatedCompositeFieldContainer[Bundle]
    def __init__(self, idempotency_key: _Optional[str] = ..., oem: _Optional[str] = ..., schedule_version: _Optional[int] = ..., lines: _Optional[_Iterable[_Union[ScheduleLine, _Mapping]]] = ..., brand_targets: _Optional[_Iterable[_Union[BrandTarget, _Mapping]]] = ..., bundles: _Optional[_Iterable[_Union[Bundle, _Mapping]]] = ...) -> None: ...

class StreamProductionScheduleResponse(_message.Message):
    __slots__ = ("oem", "schedule_version", "chunks", "lines", "summary")
    OEM_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_VERSION_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    oem: str
    schedule_version: int
    chunks: int
    lines: int
    summary: _common_pb2.WriteSummary
    def __init__(self, oem: _Optional[str] = ..., schedule_version: _Optional[int] = ..., chunks: _Optional[int] = ..., lines: _Optional[int] = ..., summary: _Optional[_Union[_common_pb2.WriteSummary, _Mapping]] = ...) -> None: ...

class GetNetworkSummaryRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetNetworkSummaryResponse(_message.Message):
    __slots__ = ("regions", "brands", "stores", "trims", "vehicles", "sales_rows", "advisors", "leads", "schedule_versions", "first_sales_week", "last_sales_week")
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    BRANDS_FIELD_NUMBER: _ClassVar[int]
    STORES_FIELD_NUMBER: _ClassVar[int]
    TRIMS_FIELD_NUMBER: _ClassVar[int]
    VEHICLES_FIELD_NUMBER: _ClassVar[int]
    SALES_ROWS_FIELD_NUMBER: _ClassVar[int]
    ADVISORS_FIELD_NUMBER: _ClassVar[int]
    LEADS_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    FIRST_SALES_WEEK_FIELD_NUMBER: _ClassVar[int]
    LAST_SALES_WEEK_FIELD_NUMBER: _ClassVar[int]
    regions: int
    brands: int
    stores: int
    trims: int
    vehicles: int
    sales_rows: int
    advisors: int
    leads: int
    schedule_versions: _containers.RepeatedScalarFieldContainer[str]
    first_sales_week: _common_pb2.Date
    last_sales_week: _common_pb2.Date
    def __init__(self, regions: _Optional[int] = ..., brands: _Optional[int] = ..., stores: _Optional[int] = ..., trims: _Optional[int] = ..., vehicles: _Optional[int] = ..., sales_rows: _Optional[int] = ..., advisors: _Optional[int] = ..., leads: _Optional[int] = ..., schedule_versions: _Optional[_Iterable[str]] = ..., first_sales_week: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., last_sales_week: _Optional[_Union[_common_pb2.Date, _Mapping]] = ...) -> None: ...

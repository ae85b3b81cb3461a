from turnwise.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TransferMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRANSFER_MODE_UNSPECIFIED: _ClassVar[TransferMode]
    TRANSFER_MODE_FAST: _ClassVar[TransferMode]
    TRANSFER_MODE_CONSOLIDATED: _ClassVar[TransferMode]
TRANSFER_MODE_UNSPECIFIED: TransferMode
TRANSFER_MODE_FAST: TransferMode
TRANSFER_MODE_CONSOLIDATED: TransferMode

class DemandQuantiles(_message.Message):
    __slots__ = ("store_id", "trim_id", "week_start", "quantiles")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    TRIM_ID_FIELD_NUMBER: _ClassVar[int]
    WEEK_START_FIELD_NUMBER: _ClassVar[int]
    QUANTILES_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    trim_id: str
    week_start: _common_pb2.Date
    quantiles: _containers.RepeatedCompositeFieldContainer[_common_pb2.QuantileValue]
    def __init__(self, store_id: _Optional[str] = ..., trim_id: _Optional[str] = ..., week_start: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., quantiles: _Optional[_Iterable[_Union[_common_pb2.QuantileValue, _Mapping]]] = ...) -> None: ...

class NetworkOverrides(_message.Message):
    __slots__ = ("credit_limit_cny", "lot_capacity", "group_credit_limit_cny", "offers", "price_factor", "demand_factor")
    class CreditLimitCnyEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class LotCapacityEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class PriceFactorEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    class DemandFactorEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    CREDIT_LIMIT_CNY_FIELD_NUMBER: _ClassVar[int]
    LOT_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    GROUP_CREDIT_LIMIT_CNY_FIELD_NUMBER: _ClassVar[int]
    OFFERS_FIELD_NUMBER: _ClassVar[int]
    PRICE_FACTOR_FIELD_NUMBER: _ClassVar[int]
    DEMAND_FACTOR_FIELD_NUMBER: _ClassVar[int]
    credit_limit_cny: _containers.ScalarMap[str, int]
    lot_capacity: _containers.ScalarMap[str, int]
    group_credit_limit_cny: int
    offers: _containers.RepeatedCompositeFieldContainer[OfferOverride]
    price_factor: _containers.ScalarMap[str, float]
    demand_factor: _containers.ScalarMap[str, float]
    def __init__(self, credit_limit_cny: _Optional[_Mapping[str, int]] = ..., lot_capacity: _Optional[_Mapping[str, int]] = ..., group_credit_limit_cny: _Optional[int] = ..., offers: _Optional[_Iterable[_Union[OfferOverride, _Mapping]]] = ..., price_factor: _Optional[_Mapping[str, float]] = ..., demand_factor: _Optional[_Mapping[str, float]] = ...) -> None: ...

class OfferOverride(_message.Message):
    __slots__ = ("week_start", "trim_id", "max_units")
    WEEK_START_FIELD_NUMBER: _ClassVar[int]
    TRIM_ID_FIELD_NUMBER: _ClassVar[int]
    MAX_UNITS_FIELD_NUMBER: _ClassVar[int]
    week_start: _common_pb2.Date
    trim_id: str
    max_units: int
    def __init__(self, week_start: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., trim_id: _Optional[str] = ..., max_units: _Optional[int] = ...) -> None: ...

class PlanPickupRequest(_message.Message):
    __slots__ = ("idempotency_key", "first_week", "weeks", "store_ids", "demand", "overrides", "max_days_of_supply", "limits", "hint_plan_id")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    FIRST_WEEK_FIELD_NUMBER: _ClassVar[int]
    WEEKS_FIELD_NUMBER: _ClassVar[int]
    STORE_IDS_FIELD_NUMBER: _ClassVar[int]
    DEMAND_FIELD_NUMBER: _ClassVar[int]
    OVERRIDES_FIELD_NUMBER: _ClassVar[int]
    MAX_DAYS_OF_SUPPLY_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    HINT_PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    first_week: _common_pb2.Date
    weeks: int
    store_ids: _containers.RepeatedScalarFieldContainer[str]
    demand: _containers.RepeatedCompositeFieldContainer[DemandQuantiles]
    overrides: NetworkOverrides
    max_days_of_supply: float
    limits: _common_pb2.SolveLimits
    hint_plan_id: str
    def __init__(self, idempotency_key: _Optional[str] = ..., first_week: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., weeks: _Optional[int] = ..., store_ids: _Optional[_Iterable[str]] = ..., demand: _Optional[_Iterable[_Union[DemandQuantiles, _Mapping]]] = ..., overrides: _Optional[_Union[NetworkOverrides, _Mapping]] = ..., max_days_of_supply: _Optional[float] = ..., limits: _Optional[_Union[_common_pb2.SolveLimits, _Mapping]] = ..., hint_plan_id: _Optional[str] = ...) -> None: ...

class OrderLine(_message.Message):
    __slots__ = ("store_id", "trim_id", "week_start", "units", "expected_sales", "reason")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    TRIM_ID_FIELD_NUMBER: _ClassVar[int]
    WEEK_START_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_SALES_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    trim_id: str
    week_start: _common_pb2.Date
    units: int
    expected_sales: float
    reason: str
    def __init__(self, store_id: _Optional[str] = ..., trim_id: _Optional[str] = ..., week_start: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., units: _Optional[int] = ..., expected_sales: _Optional[float] = ..., reason: _Optional[str] = ...) -> None: ...

class BindingConstraint(_message.Message):
    __slots__ = ("name", "shadow_price_cny", "explanation")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SHADOW_PRICE_CNY_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    name: str
    shadow_price_cny: float
    explanation: str
    def __init__(self, name: _Optional[str] = ..., shadow_price_cny: _Optional[float] = ..., explanation: _Optional[str] = ...) -> None: ...

class TrimDecision(_message.Message):
    __slots__ = ("trim_id", "ordered_units", "offered_units", "expected_demand", "stock_units", "reason")
    TRIM_ID_FIELD_NUMBER: _ClassVar[int]
    ORDERED_UNITS_FIELD_NUMBER: _ClassVar[int]
    OFFERED_UNITS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_DEMAND_FIELD_NUMBER: _ClassVar[int]
    STOCK_UNITS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    trim_id: str
    ordered_units: int
    offered_units: int
    expected_demand: float
    stock_units: int
    reason: str
    def __init__(self, trim_id: _Optional[str] = ..., ordered_units: _Optional[int] = ..., offered_units: _Optional[int] = ..., expected_demand: _Optional[float] = ..., stock_units: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class PlanPickupResponse(_message.Message):
    __slots__ = ("plan", "solve", "lines", "kpis", "binding", "trims")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    SOLVE_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    KPIS_FIELD_NUMBER: _ClassVar[int]
    BINDING_FIELD_NUMBER: _ClassVar[int]
    TRIMS_FIELD_NUMBER: _ClassVar[int]
    plan: _common_pb2.PlanRef
    solve: _common_pb2.SolveSummary
    lines: _containers.RepeatedCompositeFieldContainer[OrderLine]
    kpis: _containers.RepeatedCompositeFieldContainer[_common_pb2.Kpi]
    binding: _containers.RepeatedCompositeFieldContainer[BindingConstraint]
    trims: _containers.RepeatedCompositeFieldContainer[TrimDecision]
    def __init__(self, plan: _Optional[_Union[_common_pb2.PlanRef, _Mapping]] = ..., solve: _Optional[_Union[_common_pb2.SolveSummary, _Mapping]] = ..., lines: _Optional[_Iterable[_Union[OrderLine, _Mapping]]] = ..., kpis: _Optional[_Iterable[_Union[_common_pb2.Kpi, _Mapping]]] = ..., binding: _Optional[_Iterable[_Union[BindingConstraint, _Mapping]]] = ..., trims: _Optional[_Iterable[_Union[TrimDecision, _Mapping]]] = ...) -> None: ...

class PlanTransfersRequest(_message.Message):
    __slots__ = ("idempotency_key", "mode", "store_ids", "demand", "overrides", "cost_per_car_km_cny", "truck_trip_cost_cny", "truck_capacity", "min_days_between_moves", "limits", "first_week", "weeks", "loading_limit", "max_lane_km")
    class LoadingLimitEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    STORE_IDS_FIELD_NUMBER: _ClassVar[int]
    DEMAND_FIELD_NUMBER: _ClassVar[int]
    OVERRIDES_FIELD_NUMBER: _ClassVar[int]
    COST_PER_CAR_KM_CNY_FIELD_NUMBER: _ClassVar[int]
    TRUCK_TRIP_COST_CNY_FIELD_NUMBER: _ClassVar[int]
    TRUCK_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    MIN_DAYS_BETWEEN_MOVES_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    FIRST_WEEK_FIELD_NUMBER: _ClassVar[int]
    WEEKS_FIELD_NUMBER: _ClassVar[int]
    LOADING_LIMIT_FIELD_NUMBER: _ClassVar[int]
    MAX_LANE_KM_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    mode: TransferMode
    store_ids: _containers.RepeatedScalarFieldContainer[str]
    demand: _containers.RepeatedCompositeFieldContainer[DemandQuantiles]
    overrides: NetworkOverrides
    cost_per_car_km_cny: float
    truck_trip_cost_cny: float
    truck_capacity: int
    min_days_between_moves: int
    limits: _common_pb2.SolveLimits
    first_week: _common_pb2.Date
    weeks: int
    loading_limit: _containers.ScalarMap[str, int]
    max_lane_km: float
    def __init__(self, idempotency_key: _Optional[str] = ..., mode: _Optional[_Union[TransferMode, str]] = ..., store_ids: _Optional[_Iterable[str]] = ..., demand: _Optional[_Iterable[_Union[DemandQuantiles, _Mapping]]] = ..., overrides: _Optional[_Union[NetworkOverrides, _Mapping]] = ..., cost_per_car_km_cny: _Optional[float] = ..., truck_trip_cost_cny: _Optional[float] = ..., truck_capacity: _Optional[int] = ..., min_days_between_moves: _Optional[int] = ..., limits: _Optional[_Union[_common_pb2.SolveLimits, _Mapping]] = ..., first_week: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., weeks: _Optional[int] = ..., loading_limit: _Optional[_Mapping[str, int]] = ..., max_lane_km: _Optional[float] = ...) -> None: ...

class Move(_message.Message):
    __slots__ = ("vin", "from_store_id", "to_store_id", "truck_id", "expected_gain_cny", "reason", "trim_id", "age_days", "colour")
    VIN_FIELD_NUMBER: _ClassVar[int]
    FROM_STORE_ID_FIELD_NUMBER: _ClassVar[int]
    TO_STORE_ID_FIELD_NUMBER: _ClassVar[int]
    TRUCK_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_GAIN_CNY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    TRIM_ID_FIELD_NUMBER: _ClassVar[int]
    AGE_DAYS_FIELD_NUMBER: _ClassVar[int]
    COLOUR_FIELD_NUMBER: _ClassVar[int]
    vin: str
    from_store_id: str
    to_store_id: str
    truck_id: str
    expected_gain_cny: float
    reason: str
    trim_id: str
    age_days: int
    colour: str
    def __init__(self, vin: _Optional[str] = ..., from_store_id: _Optional[str] = ..., to_store_id: _Optional[str] = ..., truck_id: _Optional[str] = ..., expected_gain_cny: _Optional[float] = ..., reason: _Optional[str] = ..., trim_id: _Optional[str] = ..., age_days: _Optional[int] = ..., colour: _Optional[str] = ...) -> None: ...

class Lane(_message.Message):
    __slots__ = ("from_store_id", "to_store_id", "trucks", "cars", "distance_km", "cost_cny", "lead_time_days")
    FROM_STORE_ID_FIELD_NUMBER: _ClassVar[int]
    TO_STORE_ID_FIELD_NUMBER: _ClassVar[int]
    TRUCKS_FIELD_NUMBER: _ClassVar[int]
    CARS_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_KM_FIELD_NUMBER: _ClassVar[int]
    COST_CNY_FIELD_NUMBER: _ClassVar[int]
    LEAD_TIME_DAYS_FIELD_NUMBER: _ClassVar[int]
    from_store_id: str
    to_store_id: str
    trucks: int
    cars: int
    distance_km: float
    cost_cny: float
    lead_time_days: float
    def __init__(self, from_store_id: _Optional[str] = ..., to_store_id: _Optional[str] = ..., trucks: _Optional[int] = ..., cars: _Optional[int] = ..., distance_km: _Optional[float] = ..., cost_cny: _Optional[float] = ..., lead_time_days: _Optional[float] = ...) -> None: ...

class PlanTransfersResponse(_message.Message):
    __slots__ = ("plan", "solve", "moves", "lanes", "kpis", "transport_cost_cny")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    SOLVE_FIELD_NUMBER: _ClassVar[int]
    MOVES_FIELD_NUMBER: _ClassVar[int]
    LANES_FIELD_NUMBER: _ClassVar[int]
    KPIS_FIELD_NUMBER: _ClassVar[int]
    TRANSPORT_COST_CNY_FIELD_NUMBER: _ClassVar[int]
    plan: _common_pb2.PlanRef
    solve: _common_pb2.SolveSummary
    moves: _containers.RepeatedCompositeFieldContainer[Move]
    lanes: _containers.RepeatedCompositeFieldContainer[Lane]
    kpis: _containers.RepeatedCompositeFieldContainer[_common_pb2.Kpi]
    transport_cost_cny: float
    def __init__(self, plan: _Optional[_Union[_common_pb2.PlanRef, _Mapping]] = ..., solve: _Optional[_Union[_common_pb2.SolveSummary, _Mapping]] = ..., moves: _Optional[_Iterable[_Union[Move, _Mapping]]] = ..., lanes: _Optional[_Iterable[_Union[Lane, _Mapping]]] = ..., kpis: _Optional[_Iterable[_Union[_common_pb2.Kpi, _Mapping]]] = ..., transport_cost_cny: _Optional[float] = ...) -> None: ...

import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SolveStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SOLVE_STATUS_UNSPECIFIED: _ClassVar[SolveStatus]
    SOLVE_STATUS_OPTIMAL: _ClassVar[SolveStatus]
    SOLVE_STATUS_FEASIBLE: _ClassVar[SolveStatus]
    SOLVE_STATUS_TIME_LIMIT: _ClassVar[SolveStatus]
    SOLVE_STATUS_INFEASIBLE: _ClassVar[SolveStatus]

class PlanStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PLAN_STATUS_UNSPECIFIED: _ClassVar[PlanStatus]
    PLAN_STATUS_DRAFT: _ClassVar[PlanStatus]
    PLAN_STATUS_APPROVED: _ClassVar[PlanStatus]
    PLAN_STATUS_SUPERSEDED: _ClassVar[PlanStatus]

class PlanKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PLAN_KIND_UNSPECIFIED: _ClassVar[PlanKind]
    PLAN_KIND_PICKUP: _ClassVar[PlanKind]
    PLAN_KIND_TRANSFER: _ClassVar[PlanKind]
SOLVE_STATUS_UNSPECIFIED: SolveStatus
SOLVE_STATUS_OPTIMAL: SolveStatus
SOLVE_STATUS_FEASIBLE: SolveStatus
SOLVE_STATUS_TIME_LIMIT: SolveStatus
SOLVE_STATUS_INFEASIBLE: SolveStatus
PLAN_STATUS_UNSPECIFIED: PlanStatus
PLAN_STATUS_DRAFT: PlanStatus
PLAN_STATUS_APPROVED: PlanStatus
PLAN_STATUS_SUPERSEDED: PlanStatus
PLAN_KIND_UNSPECIFIED: PlanKind
PLAN_KIND_PICKUP: PlanKind
PLAN_KIND_TRANSFER: PlanKind

class Date(_message.Message):
    __slots__ = ("year", "month", "day")
    YEAR_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    DAY_FIELD_NUMBER: _ClassVar[int]
    year: int
    month: int
    day: int
    def __init__(self, year: _Optional[int] = ..., month: _Optional[int] = ..., day: _Optional[int] = ...) -> None: ...

class SolveSummary(_message.Message):
    __slots__ = ("status", "objective_cny", "bound_cny", "gap", "solve_seconds", "diagnosis")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVE_CNY_FIELD_NUMBER: _ClassVar[int]
    BOUND_CNY_FIELD_NUMBER: _ClassVar[int]
    GAP_FIELD_NUMBER: _ClassVar[int]
    SOLVE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    DIAGNOSIS_FIELD_NUMBER: _ClassVar[int]
    status: SolveStatus
    objective_cny: float
    bound_cny: float
    gap: float
    solve_seconds: float
    diagnosis: str
    def __init__(self, status: _Optional[_Union[SolveStatus, str]] = ..., objective_cny: _Optional[float] = ..., bound_cny: _Optional[float] = ..., gap: _Optional[float] = ..., solve_seconds: _Optional[float] = ..., diagnosis: _Optional[str] = ...) -> None: ...

class SolveLimits(_message.Message):
    __slots__ = ("time_limit_seconds", "relative_gap", "workers")
    TIME_LIMIT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    RELATIVE_GAP_FIELD_NUMBER: _ClassVar[int]
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    time_limit_seconds: float
    relative_gap: float
    workers: int
    def __init__(self, time_limit_seconds: _Optional[float] = ..., relative_gap: _Optional[float] = ..., workers: _Optional[int] = ...) -> None: ...

class Kpi(_message.Message):
    __slots__ = ("name", "before", "after", "unit")
    NAME_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    name: str
    before: float
    after: float
    unit: str
    def __init__(self, name: _Optional[str] = ..., before: _Optional[float] = ..., after: _Optional[float] = ..., unit: _Optional[str] = ...) -> None: ...

class PlanRef(_message.Message):
    __slots__ = ("plan_id", "version", "kind", "status", "created_at", "scope")
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    plan_id: str
    version: int
    kind: PlanKind
    status: PlanStatus
    created_at: _timestamp_pb2.Timestamp
    scope: str
    def __init__(self, plan_id: _Optional[str] = ..., version: _Optional[int] = ..., kind: _Optional[_Union[PlanKind, str]] = ..., status: _Optional[_Union[PlanStatus, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., scope: _Optional[str] = ...) -> None: ...

class QuantileValue(_message.Message):
    __slots__ = ("level", "value")
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    level: float
    value: float
    def __init__(self, level: _Optional[float] = ..., value: _Optional[float] = ...) -> None: ...

class WriteSummary(_message.Message):
    __slots__ = ("inserted", "updated", "unchanged", "replayed")
    INSERTED_FIELD_NUMBER: _ClassVar[int]
    UPDATED_FIELD_NUMBER: _ClassVar[int]
    UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    inserted: int
    updated: int
    unchanged: int
    replayed: bool
    def __init__(self, inserted: _Optional[int] = ..., updated: _Optional[int] = ..., unchanged: _Optional[int] = ..., replayed: _Optional[bool] = ...) -> None: ...

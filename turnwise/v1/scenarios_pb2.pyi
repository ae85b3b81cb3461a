import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from turnwise.v1 import allocation_pb2 as _allocation_pb2
from turnwise.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Scenario(_message.Message):
    __slots__ = ("scenario_id", "name", "description", "overrides", "created_at")
    SCENARIO_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    OVERRIDES_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    scenario_id: str
    name: str
    description: str
    overrides: _allocation_pb2.NetworkOverrides
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, scenario_id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., overrides: _Optional[_Union[_allocation_pb2.NetworkOverrides, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateScenarioRequest(_message.Message):
    __slots__ = ("idempotency_key", "name", "description", "overrides")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    OVERRIDES_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    name: str
    description: str
    overrides: _allocation_pb2.NetworkOverrides
    def __init__(self, idempotency_key: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., overrides: _Optional[_Union[_allocation_pb2.NetworkOverrides, _Mapping]] = ...) -> None: ...

class CreateScenarioResponse(_message.Message):
    __slots__ = ("scenario",)
    SCENARIO_FIELD_NUMBER: _ClassVar[int]
    scenario: Scenario
    def __init__(self, scenario: _Optional[_Union[Scenario, _Mapping]] = ...) -> None: ...

class RunScenarioRequest(_message.Message):
    __slots__ = ("idempotency_key", "scenario_id", "kinds")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    SCENARIO_ID_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    scenario_id: str
    kinds: _containers.RepeatedScalarFieldContainer[_common_pb2.PlanKind]
    def __init__(self, idempotency_key: _Optional[str] = ..., scenario_id: _Optional[str] = ..., kinds: _Optional[_Iterable[_Union[_common_pb2.PlanKind, str]]] = ...) -> None: ...

class RunScenarioResponse(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class ComparePlansRequest(_message.Message):
    __slots__ = ("plan_ids",)
    PLAN_IDS_FIELD_NUMBER: _ClassVar[int]
    plan_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, plan_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class PlanKpis(_message.Message):
    __slots__ = ("plan", "kpis")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    KPIS_FIELD_NUMBER: _ClassVar[int]
    plan: _common_pb2.PlanRef
    kpis: _containers.RepeatedCompositeFieldContainer[_common_pb2.Kpi]
    def __init__(self, plan: _Optional[_Union[_common_pb2.PlanRef, _Mapping]] = ..., kpis: _Optional[_Iterable[_Union[_common_pb2.Kpi, _Mapping]]] = ...) -> None: ...

class ComparePlansResponse(_message.Message):
    __slots__ = ("plans",)
    PLANS_FIELD_NUMBER: _ClassVar[int]
    plans: _containers.RepeatedCompositeFieldContainer[PlanKpis]
    def __init__(self, plans: _Optional[_Iterable[_Union[PlanKpis, _Mapping]]] = ...) -> None: ...

class ApprovePlanRequest(_message.Message):
    __slots__ = ("idempotency_key", "plan_id", "version", "approved_by")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    APPROVED_BY_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    plan_id: str
    version: int
    approved_by: str
    def __init__(self, idempotency_key: _Optional[str] = ..., plan_id: _Optional[str] = ..., version: _Optional[int] = ..., approved_by: _Optional[str] = ...) -> None: ...

class ApprovePlanResponse(_message.Message):
    __slots__ = ("plan",)
    PLAN_FIELD_NUMBER: _ClassVar[int]
    plan: _common_pb2.PlanRef
    def __init__(self, plan: _Optional[_Union[_common_pb2.PlanRef, _Mapping]] = ...) -> None: ...

class GetPlanRequest(_message.Message):
    __slots__ = ("plan_id", "version")
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    plan_id: str
    version: int
    def __init__(self, plan_id: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class GetPlanResponse(_message.Message):
    __slots__ = ("plan", "pickup", "transfers")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    PICKUP_FIELD_NUMBER: _ClassVar[int]
    TRANSFERS_FIELD_NUMBER: _ClassVar[int]
    plan: _common_pb2.PlanRef
    pickup: _allocation_pb2.PlanPickupResponse
    transfers: _allocation_pb2.PlanTransfersResponse
    def __init__(self, plan: _Optional[_Union[_common_pb2.PlanRef, _Mapping]] = ..., pickup: _Optional[_Union[_allocation_pb2.PlanPickupResponse, _Mapping]] = ..., transfers: _Optional[_Union[_allocation_pb2.PlanTransfersResponse, _Mapping]] = ...) -> None: ...

class ListPlansRequest(_message.Message):
    __slots__ = ("kind", "status", "page_size", "page_token", "scope")
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    kind: _common_pb2.PlanKind
    status: _common_pb2.PlanStatus
    page_size: int
    page_token: str
    scope: str
    def __init__(self, kind: _Optional[_Union[_common_pb2.PlanKind, str]] = ..., status: _Optional[_Union[_common_pb2.PlanStatus, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., scope: _Optional[str] = ...) -> None: ...

class ListPlansResponse(_message.Message):
    __slots__ = ("plans", "next_page_token")
    PLANS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    plans: _containers.RepeatedCompositeFieldContainer[_common_pb2.PlanRef]
    next_page_token: str
    def __init__(self, plans: _Optional[_Iterable[_Union[_common_pb2.PlanRef, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from turnwise.v1 import common_pb2 as _common_pb2
from turnwise.v1 import network_pb2 as _network_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FollowUpKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FOLLOW_UP_KIND_UNSPECIFIED: _ClassVar[FollowUpKind]
    FOLLOW_UP_KIND_CALL: _ClassVar[FollowUpKind]
    FOLLOW_UP_KIND_WECHAT: _ClassVar[FollowUpKind]
    FOLLOW_UP_KIND_VISIT: _ClassVar[FollowUpKind]
    FOLLOW_UP_KIND_TEST_DRIVE: _ClassVar[FollowUpKind]
    FOLLOW_UP_KIND_ORDER: _ClassVar[FollowUpKind]
    FOLLOW_UP_KIND_LOST: _ClassVar[FollowUpKind]
FOLLOW_UP_KIND_UNSPECIFIED: FollowUpKind
FOLLOW_UP_KIND_CALL: FollowUpKind
FOLLOW_UP_KIND_WECHAT: FollowUpKind
FOLLOW_UP_KIND_VISIT: FollowUpKind
FOLLOW_UP_KIND_TEST_DRIVE: FollowUpKind
FOLLOW_UP_KIND_ORDER: FollowUpKind
FOLLOW_UP_KIND_LOST: FollowUpKind

class RouteLeadRequest(_message.Message):
    __slots__ = ("lead",)
    LEAD_FIELD_NUMBER: _ClassVar[int]
    lead: _network_pb2.Lead
    def __init__(self, lead: _Optional[_Union[_network_pb2.Lead, _Mapping]] = ...) -> None: ...

class Assignment(_message.Message):
    __slots__ = ("lead_id", "advisor_id", "score", "reason", "first_contact_due", "replayed")
    LEAD_ID_FIELD_NUMBER: _ClassVar[int]
    ADVISOR_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    FIRST_CONTACT_DUE_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    lead_id: str
    advisor_id: str
    score: float
    reason: str
    first_contact_due: _timestamp_pb2.Timestamp
    replayed: bool
    def __init__(self, lead_id: _Optional[str] = ..., advisor_id: _Optional[str] = ..., score: _Optional[float] = ..., reason: _Optional[str] = ..., first_contact_due: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., replayed: _Optional[bool] = ...) -> None: ...

class RouteLeadResponse(_message.Message):
    __slots__ = ("assignment",)
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    assignment: Assignment
    def __init__(self, assignment: _Optional[_Union[Assignment, _Mapping]] = ...) -> None: ...

class RouteLeadsRequest(_message.Message):
    __slots__ = ("idempotency_key", "leads", "limits")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    LEADS_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    leads: _containers.RepeatedCompositeFieldContainer[_network_pb2.Lead]
    limits: _common_pb2.SolveLimits
    def __init__(self, idempotency_key: _Optional[str] = ..., leads: _Optional[_Iterable[_Union[_network_pb2.Lead, _Mapping]]] = ..., limits: _Optional[_Union[_common_pb2.SolveLimits, _Mapping]] = ...) -> None: ...

class RouteLeadsResponse(_message.Message):
    __slots__ = ("assignments", "unassigned_lead_ids", "solve", "expected_conversions")
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    UNASSIGNED_LEAD_IDS_FIELD_NUMBER: _ClassVar[int]
    SOLVE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_CONVERSIONS_FIELD_NUMBER: _ClassVar[int]
    assignments: _containers.RepeatedCompositeFieldContainer[Assignment]
    unassigned_lead_ids: _containers.RepeatedScalarFieldContainer[str]
    solve: _common_pb2.SolveSummary
    expected_conversions: float
    def __init__(self, assignments: _Optional[_Iterable[_Union[Assignment, _Mapping]]] = ..., unassigned_lead_ids: _Optional[_Iterable[str]] = ..., solve: _Optional[_Union[_common_pb2.SolveSummary, _Mapping]] = ..., expected_conversions: _Optional[float] = ...) -> None: ...

class RecordFollowUpRequest(_message.Message):
    __slots__ = ("idempotency_key", "lead_id", "advisor_id", "kind", "at", "note")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    LEAD_ID_FIELD_NUMBER: _ClassVar[int]
    ADVISOR_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    lead_id: str
    advisor_id: str
    kind: FollowUpKind
    at: _timestamp_pb2.Timestamp
    note: str
    def __init__(self, idempotency_key: _Optional[str] = ..., lead_id: _Optional[str] = ..., advisor_id: _Optional[str] = ..., kind: _Optional[_Union[FollowUpKind, str]] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., note: _Optional[str] = ...) -> None: ...

class RecordFollowUpResponse(_message.Message):
    __slots__ = ("next_due",)
    NEXT_DUE_FIELD_NUMBER: _ClassVar[int]
    next_due: _timestamp_pb2.Timestamp
    def __init__(self, next_due: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ClaimFromPoolRequest(_message.Message):
    __slots__ = ("idempotency_key", "lead_id", "advisor_id")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    LEAD_ID_FIELD_NUMBER: _ClassVar[int]
    ADVISOR_ID_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    lead_id: str
    advisor_id: str
    def __init__(self, idempotency_key: _Optional[str] = ..., lead_id: _Optional[str] = ..., advisor_id: _Optional[str] = ...) -> None: ...

class ClaimFromPoolResponse(_message.Message):
    __slots__ = ("assignment",)
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    assignment: Assignment
    def __init__(self, assignment: _Optional[_Union[Assignment, _Mapping]] = ...) -> None: ...

class ListPoolRequest(_message.Message):
    __slots__ = ("store_id", "region_id", "page_size", "page_token")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    region_id: str
    page_size: int
    page_token: str
    def __init__(self, store_id: _Optional[str] = ..., region_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class PooledLead(_message.Message):
    __slots__ = ("lead", "pooled_at", "missed_by_advisor_ids")
    LEAD_FIELD_NUMBER: _ClassVar[int]
    POOLED_AT_FIELD_NUMBER: _ClassVar[int]
    MISSED_BY_ADVISOR_IDS_FIELD_NUMBER: _ClassVar[int]
    lead: _network_pb2.Lead
    pooled_at: _timestamp_pb2.Timestamp
    missed_by_advisor_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, lead: _Optional[_Union[_network_pb2.Lead, _Mapping]] = ..., pooled_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., missed_by_advisor_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ListPoolResponse(_message.Message):
    __slots__ = ("leads", "next_page_token")
    LEADS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    leads: _containers.RepeatedCompositeFieldContainer[PooledLead]
    next_page_token: str
    def __init__(self, leads: _Optional[_Iterable[_Union[PooledLead, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

from turnwise.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Frequency(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FREQUENCY_UNSPECIFIED: _ClassVar[Frequency]
    FREQUENCY_WEEKLY: _ClassVar[Frequency]
    FREQUENCY_MONTHLY: _ClassVar[Frequency]

class ForecastModel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FORECAST_MODEL_UNSPECIFIED: _ClassVar[ForecastModel]
    FORECAST_MODEL_ENSEMBLE: _ClassVar[ForecastModel]
    FORECAST_MODEL_PROPHET: _ClassVar[ForecastModel]
    FORECAST_MODEL_XGBOOST: _ClassVar[ForecastModel]
    FORECAST_MODEL_SEASONAL_NAIVE: _ClassVar[ForecastModel]
    FORECAST_MODEL_ETS: _ClassVar[ForecastModel]
    FORECAST_MODEL_THETA: _ClassVar[ForecastModel]
    FORECAST_MODEL_CROSTON: _ClassVar[ForecastModel]
FREQUENCY_UNSPECIFIED: Frequency
FREQUENCY_WEEKLY: Frequency
FREQUENCY_MONTHLY: Frequency
FORECAST_MODEL_UNSPECIFIED: ForecastModel
FORECAST_MODEL_ENSEMBLE: ForecastModel
FORECAST_MODEL_PROPHET: ForecastModel
FORECAST_MODEL_XGBOOST: ForecastModel
FORECAST_MODEL_SEASONAL_NAIVE: ForecastModel
FORECAST_MODEL_ETS: ForecastModel
FORECAST_MODEL_THETA: ForecastModel
FORECAST_MODEL_CROSTON: ForecastModel

class Observation(_message.Message):
    __slots__ = ("ds", "y", "regressors")
    class RegressorsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    DS_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    REGRESSORS_FIELD_NUMBER: _ClassVar[int]
    ds: _common_pb2.Date
    y: float
    regressors: _containers.ScalarMap[str, float]
    def __init__(self, ds: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., y: _Optional[float] = ..., regressors: _Optional[_Mapping[str, float]] = ...) -> None: ...

class Series(_message.Message):
    __slots__ = ("unique_id", "history", "future_regressors")
    UNIQUE_ID_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    FUTURE_REGRESSORS_FIELD_NUMBER: _ClassVar[int]
    unique_id: str
    history: _containers.RepeatedCompositeFieldContainer[Observation]
    future_regressors: _containers.RepeatedCompositeFieldContainer[Observation]
    def __init__(self, unique_id: _Optional[str] = ..., history: _Optional[_Iterable[_Union[Observation, _Mapping]]] = ..., future_regressors: _Optional[_Iterable[_Union[Observation, _Mapping]]] = ...) -> None: ...

class ForecastRequest(_message.Message):
    __slots__ = ("idempotency_key", "frequency", "horizon", "quantile_levels", "model", "series", "store_sales")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    FREQUENCY_FIELD_NUMBER: _ClassVar[int]
    HORIZON_FIELD_NUMBER: _ClassVar[int]
    QUANTILE_LEVELS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SERIES_FIELD_NUMBER: _ClassVar[int]
    STORE_SALES_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    frequency: Frequency
    horizon: int
    quantile_levels: _containers.RepeatedScalarFieldContainer[float]
    model: ForecastModel
    series: _containers.RepeatedCompositeFieldContainer[Series]
    store_sales: StoreSalesSelector
    def __init__(self, idempotency_key: _Optional[str] = ..., frequency: _Optional[_Union[Frequency, str]] = ..., horizon: _Optional[int] = ..., quantile_levels: _Optional[_Iterable[float]] = ..., model: _Optional[_Union[ForecastModel, str]] = ..., series: _Optional[_Iterable[_Union[Series, _Mapping]]] = ..., store_sales: _Optional[_Union[StoreSalesSelector, _Mapping]] = ...) -> None: ...

class StoreSalesSelector(_message.Message):
    __slots__ = ("store_ids", "trim_ids", "region_ids", "brand_ids")
    STORE_IDS_FIELD_NUMBER: _ClassVar[int]
    TRIM_IDS_FIELD_NUMBER: _ClassVar[int]
    REGION_IDS_FIELD_NUMBER: _ClassVar[int]
    BRAND_IDS_FIELD_NUMBER: _ClassVar[int]
    store_ids: _containers.RepeatedScalarFieldContainer[str]
    trim_ids: _containers.RepeatedScalarFieldContainer[str]
    region_ids: _containers.RepeatedScalarFieldContainer[str]
    brand_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, store_ids: _Optional[_Iterable[str]] = ..., trim_ids: _Optional[_Iterable[str]] = ..., region_ids: _Optional[_Iterable[str]] = ..., brand_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ForecastPoint(_message.Message):
    __slots__ = ("ds", "mean", "quantiles")
    DS_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    QUANTILES_FIELD_NUMBER: _ClassVar[int]
    ds: _common_pb2.Date
    mean: float
    quantiles: _containers.RepeatedCompositeFieldContainer[_common_pb2.QuantileValue]
    def __init__(self, ds: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., mean: _Optional[float] = ..., quantiles: _Optional[_Iterable[_Union[_common_pb2.QuantileValue, _Mapping]]] = ...) -> None: ...

class SeriesForecast(_message.Message):
    __slots__ = ("unique_id", "points", "model", "fallback_reason")
    UNIQUE_ID_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    FALLBACK_REASON_FIELD_NUMBER: _ClassVar[int]
    unique_id: str
    points: _containers.RepeatedCompositeFieldContainer[ForecastPoint]
    model: ForecastModel
    fallback_reason: str
    def __init__(self, unique_id: _Optional[str] = ..., points: _Optional[_Iterable[_Union[ForecastPoint, _Mapping]]] = ..., model: _Optional[_Union[ForecastModel, str]] = ..., fallback_reason: _Optional[str] = ...) -> None: ...

class ForecastResponse(_message.Message):
    __slots__ = ("forecasts", "fallbacks")
    FORECASTS_FIELD_NUMBER: _ClassVar[int]
    FALLBACKS_FIELD_NUMBER: _ClassVar[int]
    forecasts: _containers.RepeatedCompositeFieldContainer[SeriesForecast]
    fallbacks: int
    def __init__(self, forecasts: _Optional[_Iterable[_Union[SeriesForecast, _Mapping]]] = ..., fallbacks: _Optional[int] = ...) -> None: ...

class StartForecastJobRequest(_message.Message):
    __slots__ = ("idempotency_key", "forecast")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    FORECAST_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    forecast: ForecastRequest
    def __init__(self, idempotency_key: _Optional[str] = ..., forecast: _Optional[_Union[ForecastRequest, _Mapping]] = ...) -> None: ...

class StartForecastJobResponse(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class GetForecastResultRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class GetForecastResultResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: ForecastResponse
    def __init__(self, result: _Optional[_Union[ForecastResponse, _Mapping]] = ...) -> None: ...

"""JobService: stored job records <-> protobuf."""

from __future__ import annotations

from serving.convert.common import timestamp_to_pb
from serving.store.jobs import JobKind, JobRecord, JobState
from turnwise.errors import InvalidArgument
from turnwise.v1 import jobs_pb2

__all__ = ["job_id_from_pb", "job_to_pb", "kind_from_pb", "state_from_pb"]

_KIND: dict[int, JobKind] = {
    jobs_pb2.JOB_KIND_FORECAST: JobKind.FORECAST,
    jobs_pb2.JOB_KIND_SCENARIO: JobKind.SCENARIO,
    jobs_pb2.JOB_KIND_NIGHTLY_REBALANCE: JobKind.NIGHTLY_REBALANCE,
}
_STATE: dict[int, JobState] = {
    jobs_pb2.JOB_STATE_QUEUED: JobState.QUEUED,
    jobs_pb2.JOB_STATE_RUNNING: JobState.RUNNING,
    jobs_pb2.JOB_STATE_SUCCEEDED: JobState.SUCCEEDED,
    jobs_pb2.JOB_STATE_FAILED: JobState.FAILED,
    jobs_pb2.JOB_STATE_CANCELLED: JobState.CANCELLED,
}


def job_id_from_pb(value: str) -> str:
    if not value:
        raise InvalidArgument("job_id", "is required: the id returned by the RPC that started it")
    return value


def kind_from_pb(value: int) -> JobKind | None:
    """None for UNSPECIFIED (= every kind)."""
    if value == jobs_pb2.JOB_KIND_UNSPECIFIED:
        return None
    if value not in _KIND:
        raise InvalidArgument("kind", f"{value} is not a JobKind")
    return _KIND[value]


def state_from_pb(value: int) -> JobState | None:
    """None for UNSPECIFIED (= every state)."""
    if value == jobs_pb2.JOB_STATE_UNSPECIFIED:
        return None
    if value not in _STATE:
        raise InvalidArgument("state", f"{value} is not a JobState")
    return _STATE[value]


def job_to_pb(job: JobRecord) -> jobs_pb2.Job:
    return jobs_pb2.Job(
        job_id=job.job_id,
        kind=f"JOB_KIND_{job.kind.value}",
        state=f"JOB_STATE_{job.state.value}",
        created_at=timestamp_to_pb(job.created_at),
        updated_at=timestamp_to_pb(job.updated_at),
        done=job.done,
        total=job.total,
        message=job.message,
    )

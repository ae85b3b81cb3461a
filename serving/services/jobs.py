"""JobService: status, progress streams, cancellation and listing of long-running jobs.

Jobs are started by other services through ``serving.jobs.JobRunner``; this service reads
them (the runner's in-memory snapshot for jobs of this process, else the store) and asks
them to stop.
"""

from __future__ import annotations

import contextlib

import grpc
from sqlalchemy import Connection

from serving.convert import jobs as convert
from serving.errors import grpc_errors
from serving.jobs import JobRunner
from serving.services.writes import idempotent_write
from serving.store import jobs as store
from serving.store.db import Database
from turnwise.v1 import jobs_pb2 as pb
from turnwise.v1 import jobs_pb2_grpc

__all__ = ["JobServicer"]

_CANCEL = "JobService.CancelJob"


class JobServicer(jobs_pb2_grpc.JobServiceServicer):
    def __init__(self, db: Database, jobs: JobRunner) -> None:
        self.db, self.jobs = db, jobs

    @grpc_errors
    async def GetJob(
        self, request: pb.GetJobRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetJobResponse:
        job = await self.jobs.get(convert.job_id_from_pb(request.job_id))
        return pb.GetJobResponse(job=convert.job_to_pb(job))

    @grpc_errors
    async def WatchJob(
        self, request: pb.WatchJobRequest, context: grpc.aio.ServicerContext
    ) -> None:
        """Server stream written with ``context.write``: the snapshot now, one message per
        change, the terminal state last. A cancelled call or a passed deadline cancels
        this coroutine, which ends the watch."""
        job_id = convert.job_id_from_pb(request.job_id)
        async with contextlib.aclosing(self.jobs.watch(job_id)) as updates:
            async for job in updates:
                await context.write(pb.JobProgress(job=convert.job_to_pb(job)))

    @grpc_errors
    async def CancelJob(
        self, request: pb.CancelJobRequest, context: grpc.aio.ServicerContext
    ) -> pb.CancelJobResponse:
        job_id = convert.job_id_from_pb(request.job_id)

        def write(conn: Connection) -> pb.CancelJobResponse:
            return pb.CancelJobResponse(job=convert.job_to_pb(store.request_cancel(conn, job_id)))

        response = await idempotent_write(
            self.db, _CANCEL, request.idempotency_key, request, pb.CancelJobResponse, write
        )
        await self.jobs.cancel_requested(job_id)
        return response

    @grpc_errors
    async def ListJobs(
        self, request: pb.ListJobsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListJobsResponse:
        kind = convert.kind_from_pb(request.kind)
        state = convert.state_from_pb(request.state)

        def read() -> store.JobPage:
            with self.db.read() as conn:
                return store.list_jobs(conn, kind, state, request.page_size, request.page_token)

        page = await self.db.run(read)
        return pb.ListJobsResponse(
            jobs=[convert.job_to_pb(job) for job in page.jobs],
            next_page_token=page.next_page_token,
        )

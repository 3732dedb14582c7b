"""A group's jobs (a batch's, a variation's) read through the job service, on both stores."""

from __future__ import annotations

from collections import Counter

from imajin.jobs.models import JobSpec, JobStatus
from tests.jobs.conftest import PlatformFactory, noop


def grouped(group_id: str) -> JobSpec:
    return JobSpec(kind="noop", queue="default", group_id=group_id)


def test_group_reads_count_and_list_only_that_groups_jobs(make_platform: PlatformFactory) -> None:
    platform = make_platform(start=False)
    jobs = platform.jobs
    done, dropped = jobs.submit_many([grouped("a"), grouped("a")])
    waiting = jobs.submit(grouped("b"))
    jobs.submit(noop())  # in no group: never counted
    assert jobs.repository.claim(done.id, "w") is not None
    assert jobs.repository.finish(done.id, "w", status=JobStatus.SUCCEEDED, result={})
    jobs.cancel(dropped.id)

    assert jobs.status_counts(["a", "b", "none-such"]) == {
        "a": Counter({"succeeded": 1, "cancelled": 1}),
        "b": Counter({"queued": 1}),
        "none-such": Counter(),
    }
    assert jobs.status_counts([]) == {}
    everything = jobs.in_groups(["a", "b"])
    assert {job.id for job in everything} == {done.id, dropped.id, waiting.id}
    assert everything[-1].id == waiting.id  # oldest first
    assert [job.id for job in jobs.in_groups(["a", "b"], status=JobStatus.SUCCEEDED)] == [done.id]
    assert jobs.in_groups([]) == []

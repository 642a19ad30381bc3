"""Job leases on SQLite and PostgreSQL: one holder at a time, a live holder keeps its lease past
the expiry by renewing it, a crashed holder's lease frees itself."""
from __future__ import annotations

import threading
import time

import pytest

from worker import leases


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def lease_app(request, make_app, tmp_path):
    if request.param == "postgres":
        return request.getfixturevalue("pg_app")("memory://")
    return make_app()


def test_one_holder_and_expiry(lease_app):
    with lease_app.app_context():
        assert leases.acquire("train:assignment:1", "w1/a", ttl=0.8)
        assert not leases.acquire("train:assignment:1", "w2/b", ttl=0.8)
        assert leases.acquire("train:assignment:1", "w1/a", ttl=0.8), "the holder may re-take its own lease"
        assert leases.acquire("train:assignment:2", "w2/b", ttl=5)
        # w1 "crashes": it never renews, so its lease expires and w2 may take it.
        time.sleep(1.0)
        assert leases.holder("train:assignment:1") is None, "an expired lease has no holder"
        assert leases.acquire("train:assignment:1", "w2/b", ttl=5)
        assert leases.holder("train:assignment:1")[0] == "w2/b"
        assert not leases.renew("train:assignment:1", "w1/a", ttl=5), "a lost lease cannot be renewed"
        leases.release("train:assignment:1", "w1/a")   # not the holder: no effect
        assert leases.holder("train:assignment:1")[0] == "w2/b"
        assert leases.release_prefix("w2") == 2
        assert leases.holder("train:assignment:1") is None


def test_long_job_keeps_its_lease(lease_app):
    """A job running 3x its lease ttl keeps the lease (heartbeat renewal); no one else gets in."""
    key = "train:assignment:7"
    stolen = []
    with lease_app.app_context():
        with leases.hold(lease_app, key, "gpu-worker/job", ttl=0.6) as lease:
            deadline = time.monotonic() + 1.8
            while time.monotonic() < deadline:
                if leases.acquire(key, "cpu-worker/other", ttl=0.6):
                    stolen.append(time.monotonic())
                time.sleep(0.1)
            assert not lease.lost.is_set()
        assert stolen == []
        with pytest.raises(leases.LeaseBusy):
            with leases.hold(lease_app, key, "x/1", ttl=5):
                with leases.hold(lease_app, key, "x/2", ttl=5):
                    pass
        assert leases.holder(key) is None, "released after the block"


def test_concurrent_acquire_single_winner(lease_app):
    winners = []
    barrier = threading.Barrier(4)

    def contend(i):
        with lease_app.app_context():
            barrier.wait()
            if leases.acquire("train:assignment:9", f"w{i}/job", ttl=30):
                winners.append(i)

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1


def test_a_job_that_stops_making_progress_gives_its_lease_up(lease_app):
    """A job hung in a call that never returns (a CUDA call) would renew its lease for ever from
    its live process. With `stall_seconds` the renewer keeps it only while the job touches it."""
    key, calls = "train:assignment:11", []
    with lease_app.app_context():
        with leases.hold(lease_app, key, "gpu-worker/job", ttl=0.6, stall_seconds=1.0,
                         on_stall=calls.append) as lease:
            deadline = time.monotonic() + 1.8   # longer than stall_seconds: touching keeps it
            while time.monotonic() < deadline:
                lease.touch()
                time.sleep(0.1)
            assert not lease.lost.is_set() and leases.holder(key)[0] == "gpu-worker/job"
            assert calls == [] and leases.stalled() == []
            time.sleep(1.6)   # the job "hangs": no touch for longer than stall_seconds
            assert lease.lost.is_set()
            assert leases.holder(key) is None, "given up at once, not left to expire"
            assert len(calls) == 1 and calls[0] >= 1.0, calls
            assert leases.stalled() == [key]
            assert not lease.confirm(), "a job that wakes after being given up must not write"
            assert leases.acquire(key, "cpu-worker/next", ttl=5), "another worker may train it now"
        assert leases.stalled() == [], "the hung job came back: nothing is stalled any more"
        assert leases.holder(key)[0] == "cpu-worker/next", "the late job's exit leaves the new holder alone"

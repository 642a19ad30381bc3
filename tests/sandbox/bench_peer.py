"""Benchmark of the test peer: fixture start-up (pooled RSA keys vs a fresh key per peer, the
baseline) and the cost of one full launch round trip through the real tool over HTTP.

    nice -n 10 .venv/bin/python -m tests.sandbox.bench_peer --runs 20
"""
from __future__ import annotations

import argparse
import statistics
import time

from lti_app.sandbox.keys import KeyRing, new_private_key, pooled_key
from lti_app.sandbox.platform import SandboxPlatform


def _timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def _start_stop(keys_factory):
    platform = SandboxPlatform("http://localhost:1", keys=keys_factory()).start()
    platform.stop()


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(round(0.95 * len(values))) - 1)]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)

    pooled_key(0)
    pooled = _timed(lambda: _start_stop(KeyRing), args.runs)
    fresh = _timed(lambda: _start_stop(lambda: KeyRing(first=new_private_key())), args.runs)
    print(f"peer start+stop, pooled keys:   mean {statistics.mean(pooled):7.1f} ms  p95 {_p95(pooled):7.1f} ms")
    print(f"peer start+stop, fresh key (baseline): mean {statistics.mean(fresh):7.1f} ms  p95 {_p95(fresh):7.1f} ms")
    print(f"speed-up of the key pool: {statistics.mean(fresh) / statistics.mean(pooled):.1f}x")

    from tests.peer import bench_tool_and_peer

    with bench_tool_and_peer() as (_, peer):
        peer.launch()   # warm-up: JWKS fetch, template compilation
        statuses = []
        launches = _timed(lambda: statuses.append(peer.launch(role="Learner", user_id="s1").response.status_code),
                          args.runs)
    print(f"full launch round trip (login -> auth -> launch -> landing page), {args.runs} runs: "
          f"mean {statistics.mean(launches):.1f} ms  p95 {_p95(launches):.1f} ms  statuses {sorted(set(statuses))}")


if __name__ == "__main__":
    main()

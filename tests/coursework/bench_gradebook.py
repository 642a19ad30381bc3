"""Benchmark of the LMS services client: posting grades to a real AGS endpoint (the sandbox peer
over HTTP) with the token cache, against the baseline of a fresh access token per score, and
reading a paged NRPS roster.

    nice -n 10 .venv/bin/python -m tests.coursework.bench_gradebook --scores 60 --members 120
"""
from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime, timezone


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(round(0.95 * len(values))) - 1)]


def _post_scores(client, lineitem_url: str, users: list[str], *, cached: bool) -> list[float]:
    from lti_app.lms import ags, client as lms_client

    timings = []
    for user in users:
        if not cached:
            lms_client.clear_token_cache()
        started = time.perf_counter()
        ags.post_score(client, lineitem_url, ags.score_body(
            user_id=user, timestamp=datetime.now(timezone.utc), activity_progress="Completed",
            grading_progress="FullyGraded", score_given=4, score_maximum=6, comment="Benchmark"))
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scores", type=int, default=60)
    parser.add_argument("--members", type=int, default=120)
    args = parser.parse_args(argv)

    from lti_app.extensions import db
    from lti_app.lms import nrps
    from lti_app.lms.client import LmsClient, clear_token_cache
    from lti_app.models import Platform
    from tests.peer import bench_tool_and_peer

    with bench_tool_and_peer() as (app, peer):
        users = [f"bench-{n}" for n in range(max(args.scores, args.members))]
        for user in users:
            peer.add_member("course-1", user, "Learner", name=user)
        peer.add_resource_link("course-1", "bench-link", line_item={"scoreMaximum": 6, "label": "Bench"})
        lineitem_url = peer.line_items("course-1")[0]["id"]
        with app.app_context():
            client = LmsClient.for_platform(db.session.scalar(db.select(Platform)))
            clear_token_cache()
            _post_scores(client, lineitem_url, users[:3], cached=True)          # warm up
            tokens = peer.token_requests
            cached = _post_scores(client, lineitem_url, users[:args.scores], cached=True)
            cached_tokens = peer.token_requests - tokens
            tokens = peer.token_requests
            fresh = _post_scores(client, lineitem_url, users[:args.scores], cached=False)
            fresh_tokens = peer.token_requests - tokens
            started = time.perf_counter()
            members = nrps.memberships(client, peer.state.memberships_url("course-1"))
            roster_ms = (time.perf_counter() - started) * 1000
    print(f"{args.scores} scores, cached token:  mean {statistics.mean(cached):6.1f} ms  p95 {_p95(cached):6.1f} ms"
          f"  token requests {cached_tokens}")
    print(f"{args.scores} scores, fresh token each (baseline): mean {statistics.mean(fresh):6.1f} ms"
          f"  p95 {_p95(fresh):6.1f} ms  token requests {fresh_tokens}")
    print(f"speed-up of the token cache: {statistics.mean(fresh) / statistics.mean(cached):.1f}x")
    print(f"NRPS roster of {len(members)} members (page size 2, all pages followed): {roster_ms:.0f} ms")


if __name__ == "__main__":
    main()

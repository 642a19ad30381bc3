"""Keeping the development sandbox's courses, placements and gradebook across `gradeloop run`
restarts (a JSON file in the data dir), so ids the tool has stored (resource links, line item
URLs) keep meaning the same thing. Tests keep the state in memory only."""
from __future__ import annotations

import json
import os
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from lti_app.sandbox.state import Course, Member, PlatformState, ResourceLink

VERSION = 1


def snapshot(state: PlatformState) -> dict:
    with state.lock:
        return {
            "version": VERSION,
            "last_id": state.last_id,
            "courses": [{"id": c.id, "title": c.title, "label": c.label,
                         "members": [asdict(m) for m in c.members.values()],
                         "resource_links": [asdict(link) for link in c.resource_links.values()],
                         "content_items": c.content_items} for c in state.courses.values()],
            "line_items": [{"num": num, "course_id": item["course_id"], "data": item["data"]}
                           for num, item in state.line_items.items()],
            "results": [{"line_item": num, "record": {k: v for k, v in rec.items() if k != "_when"}}
                        for (num, _user), rec in state.results.items()],
            "score_log": {str(num): log for num, log in state.score_log.items()},
        }


def restore(state: PlatformState, data: dict) -> None:
    if data.get("version") != VERSION:
        raise ValueError(f"unknown sandbox state version {data.get('version')!r}")
    with state.lock:
        state.last_id = int(data["last_id"])
        for c in data["courses"]:
            course = Course(id=c["id"], title=c["title"], label=c["label"], content_items=c["content_items"])
            course.members = {m["user_id"]: Member(**m) for m in c["members"]}
            course.resource_links = {link["id"]: ResourceLink(**link) for link in c["resource_links"]}
            state.courses[course.id] = course
        for item in data["line_items"]:
            state.line_items[item["num"]] = {"course_id": item["course_id"], "data": item["data"],
                                             "_num": item["num"]}
        state.score_log = {int(num): log for num, log in data["score_log"].items()}
        for res in data["results"]:
            record = res["record"]
            state.results[(res["line_item"], record["userId"])] = {
                **record, "_when": datetime.fromisoformat(record["timestamp"])}


def save(state: PlatformState, path: Path) -> None:
    """Atomic write: a crash mid-save leaves the previous file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(snapshot(state), indent=1))
    os.replace(tmp, path)


def load(state: PlatformState, path: Path) -> bool:
    if not path.exists():
        return False
    try:
        restore(state, json.loads(path.read_text()))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"the sandbox state file {path} is unreadable ({exc!r}); "
                         "delete it to start the sandbox LMS afresh") from exc
    return True

"""A training run in a teacher's words. The worker records its phases and the promotion gate's
verdict in a developer's terms (worker/ml: pipeline.STAGES and TRAIN_PHASES, trainer.train's phases,
gate.decide's checks); logs and the CLI keep those, and the dashboard says these instead."""
from __future__ import annotations

from lti_app import worker_presence
from lti_app.coursework import grade_in_lms
from lti_app.models import ModelVersion
from lti_app.review import blind
from worker.ml.gate import NO_GROUP_LABELS as _GATE_NO_GROUP_LABELS

# Every phase the worker writes to TrainingRun.phase. One it adds later reads "under way" rather than
# reaching the page as a developer's name.
PHASES = {
    "data": "loading your grades",
    "features": "reading the essays",
    "cross-validation": "trying approaches",
    "fine-tune": "trying a larger model",
    "training": "learning from your grades",
    "evaluation": "comparing with the version in use",
    "refit": "learning from all your grades",
    "export": "checking the new version",
    "done": "finishing",
}


def phase(name: str | None, status: str) -> str:
    return "waiting to start" if status == "queued" else PHASES.get(name or "", "under way")


# What does not happen while no worker takes a kind of work (`worker_presence`), in that order. Grades
# are not here: a teacher's grade is sent at once by the page that saves it, and the essay list says
# which ones wait for a worker.
WITHOUT_WORKER = {
    worker_presence.SCORING: "essays handed in get no AI feedback (they wait for you to grade them)",
    worker_presence.TRAINING: "the course model does not train",
}


def no_worker(missing: set[str]) -> str:
    """The dashboard's one notice while no worker takes the kinds of work in `missing`."""
    effects = [words for kind, words in WITHOUT_WORKER.items() if kind in missing]
    if not effects:
        return ""
    said = effects[0] if len(effects) == 1 else ", ".join(effects[:-1]) + " and " + effects[-1]
    return (f"Gradeloop's background worker is not running, so {said} until your Gradeloop administrator "
            "starts it. Everything you have graded is safe in Gradeloop.")


def held_grades(count: int, failed: bool) -> str:
    """The "Gradebook updates that failed" box's words for `count` grades that nothing sends while
    no worker takes gradebook work (`roster.held_grades`); `failed`: the box lists failed updates
    above them. "Still being retried" would be untrue: nothing retries them."""
    grades = f"{count} grade{'s' if count != 1 else ''} of this assignment {'are' if count != 1 else 'is'}"
    return (f"{'' if failed else 'None failed, but '}{grades} held in Gradeloop and not being sent to the LMS "
            f"gradebook: {grade_in_lms.NO_WORKER}. Ask your Gradeloop administrator to start the worker; the essay "
            "list shows which grades, and its \u201cSend to the LMS again\u201d sends them once the LMS answers.")


def _above_or_below(smd) -> str:
    return "above" if (smd or 0) > 0 else "below"


def _failed_checks(version: ModelVersion) -> list[str] | None:
    """A sentence for each check the version failed, or None when one has no words here (the
    worker's own message then stands: better exact than silently incomplete)."""
    gate, metrics = version.gate or {}, version.metrics or {}
    new, now = metrics.get("held_out") or {}, metrics.get("current_on_held_out") or {}
    limits = gate.get("thresholds") or {}
    said = []
    for check, passed in (gate.get("checks") or {}).items():
        if passed is not False:
            continue
        if check == "beats_current" and gate.get("compared_on"):
            said.append(_own_proposals(gate, metrics.get("n_held_out") or now.get("n")))
        elif check == "beats_current" and new.get("qwk") is not None and now.get("qwk") is not None:
            said.append(f"The new version agreed with your grades less than the one in use "
                        f"({new['qwk']:.3f} vs {now['qwk']:.3f}), so the one in use stays."
                        + _own_proposals(gate, metrics.get("n_held_out") or now.get("n")))
        elif check == "beats_current" and new.get("qwk") is not None and metrics.get("current_own_test"):
            # Too few essays were new to the one in use to test both on the same ones
            # (`worker.ml.stored_comparison`): each was tested on essays it did not learn from.
            said.append(f"The new version agreed with your grades less ({new['qwk']:.3f}) than the one in use did "
                        f"on the essays kept back to test it ({metrics['current_own_test']['qwk']:.3f}), so the one "
                        "in use stays. Too few essays graded since are new to the one in use to test both on the "
                        "same essays.")
        elif check == "qwk" and new.get("qwk") is not None:
            said.append(f"It agreed with your grades too little ({new['qwk']:.3f}; at least "
                        f"{float(limits.get('min_qwk', 0.70)):.2f} is needed).")
        elif check == "spread":
            said.append("The essays kept back to test it all had the same grade from you, so how well it agrees "
                        "cannot be measured until essays across the scale are graded.")
        elif check == "smd":
            said.append(f"Its scores were on average too far {_above_or_below(new.get('smd'))} yours.")
        elif check.startswith("smd_group:"):
            group = check.split(":", 1)[1]
            said.append(_group_refused(group, (new.get("smd_by_group") or {}).get(group) or {},
                                       float(limits.get("max_group_smd", 0.10))))
        else:
            return None
    return said


def _own_proposals(gate: dict, tested: int | None) -> str:
    """Which essays decided that the one in use stays (`worker.ml.gate.compared_on`): the essays the
    teacher graded without seeing its proposal, when there were enough; otherwise why it is hard to
    beat when it was tested on its own proposals whose scores the teacher kept, and how many more
    essays graded without its proposal would let those decide (the blind check gives about one
    hand-in in `blind.SHARE`)."""
    compared = gate.get("compared_on")
    if compared:
        return (f"On the {compared['essays']} essays you graded without seeing its proposal, the new version agreed "
                f"with your grades less than the one in use ({compared['new_qwk']:.3f} vs "
                f"{compared['current_qwk']:.3f}), so the one in use stays. Those essays decided: where you approved "
                "its proposal, the one in use agrees with you by construction.")
    kept = gate.get("held_out_kept_as_proposed")
    if not kept:
        return ""
    said = (f" You kept the score it proposed for {kept} of the {tested or kept} essays it was tested on: it agrees "
            "with those by construction, so there a new version can only match it or fall behind. Changing the "
            "scores you disagree with, rather than approving them, lets a new version show what it does better.")
    needed = (gate.get("thresholds") or {}).get("compared_min")
    without = gate.get("held_out_without_proposal")
    if without is None:   # a version from before it was recorded
        without = (tested or 0) - (gate.get("held_out_on_own_proposals") or 0)
    if needed and tested and without < needed:
        said += (f" {without} of them you graded without seeing its proposal; from {needed}, those alone decide "
                 f"which version is better, so {needed - without} more would do. With the blind check on, you grade "
                 f"about one essay in {round(1 / blind.SHARE)} handed in that way.")
    return said


def _group_refused(group: str, d: dict, limit: float) -> str:
    """Why a group's difference refused the version. Versions gated before the interval rule (their
    figures have no `ci`) were refused on the figure alone, which on a few essays can be chance."""
    smd, n = d.get("smd"), d.get("n")
    figure = f"SMD {smd:+.2f} on {n} essays" if smd is not None and n is not None else "the group's SMD"
    if d.get("ci"):
        return (f"Its scores for {group} were clearly {_above_or_below(smd)} yours on average ({figure}): more "
                f"than the {limit:.2f} allowed, even allowing for chance.")
    return (f"Its scores for {group} were on average {_above_or_below(smd)} yours by more than the {limit:.2f} "
            f"allowed ({figure}). That older check did not allow for chance: on few essays this may not be a real "
            "difference.")


# The reason `worker.ml.pipeline` gives when a version passed the gate but the teacher put another
# version in service while it trained: that choice stands, and the version is stored "rejected".
CHOSEN_MEANWHILE = "not put in service: the version in service changed while it trained"
PASSED_NOT_USED = ("passed, not put in service", "another version was put in service while it trained")


def passed_but_not_chosen(version: ModelVersion) -> bool:
    """Whether `version` passed the gate and was kept out of service only because another version
    was put in service while it trained. The pipeline stores that as `gate["kept_out"]` with its
    reason; versions stored before it kept the gate as it was before the switch (the column did not
    see the change made in place): a "rejected" version whose gate says `promote` is that case."""
    gate = version.gate or {}
    said = (gate.get("promote") is True or bool(gate.get("kept_out"))
            or CHOSEN_MEANWHILE in (gate.get("reasons") or []))
    return version.status == "rejected" and said and False not in (gate.get("checks") or {}).values()


def version_status(version: ModelVersion, current: ModelVersion | None) -> tuple[str, str]:
    """The version history's badge for `version`, and a note beside it ("" for none). A version kept
    out of service by the teacher's choice is not called "rejected": it passed."""
    if current is not None and version.id == current.id:
        return "in service", ""
    if passed_but_not_chosen(version):
        return PASSED_NOT_USED
    return version.status, ""


TOO_FEW = "too few essays to tell"
# The gate's own reason, as a sentence: the training message, the gate's reasons and the SMD
# chart say the same words.
NO_GROUP_LABELS = _GATE_NO_GROUP_LABELS[0].upper() + _GATE_NO_GROUP_LABELS[1:] + "."


def too_few_to_tell(version: ModelVersion, group: str, d: dict) -> bool:
    """A group's figure beyond the group limit that the gate did not hold against the version
    (`worker.ml.gate`: the group has too few essays, or its 95% interval reaches inside the limit).
    False for versions gated before that rule (no `ci`): their figures were judged as they stand."""
    gate = version.gate or {}
    limit = float((gate.get("thresholds") or {}).get("max_group_smd", 0.10))
    return ("ci" in d and abs(d.get("smd") or 0.0) > limit
            and (gate.get("checks") or {}).get(f"smd_group:{group}") is not False)


def group_notes(version: ModelVersion) -> list[str]:
    """What the group check could not tell about `version`, in a teacher's words."""
    held = (version.metrics or {}).get("held_out") or {}
    groups = held.get("smd_by_group") or {}
    if not groups:
        return [NO_GROUP_LABELS] if held.get("labelled_outside_held_out") else []
    return [f"For {group}, there are {TOO_FEW} whether its scores differ from yours (SMD {d['smd']:+.2f} on "
            f"{d.get('n')} essays), so it was not held against this version."
            for group, d in groups.items() if too_few_to_tell(version, group, d)]


def _passed(version: ModelVersion) -> str:
    qwk = ((version.metrics or {}).get("held_out") or {}).get("qwk")
    agreed = f" It agreed with your grades {qwk:.3f} on essays kept back to test it." if qwk is not None else ""
    compared = (version.gate or {}).get("compared_on")
    if compared:   # these essays decided that it beats the one it replaced (`worker.ml.gate.compared_on`)
        agreed += (f" On the {compared['essays']} of them you graded without seeing a proposal of the version it "
                   f"replaced, it agreed {compared['new_qwk']:.3f} and that version {compared['current_qwk']:.3f}.")
    return f"Version {version.version} passed the quality checks and scores new essays.{agreed}"


def verdict(version: ModelVersion | None, message: str) -> str:
    """A finished run's `message` about its version, in plain words with the numbers; any note the
    worker added after its verdict (a model retired after an erasure, "Version N was trained on
    deleted essays…") is kept. Other messages are returned as they are."""
    if version is None or not message:
        return message
    after = message.find(" Version ", 1)   # the worker's note after its one-sentence verdict
    note = message[after:] if after > 0 else ""
    if message.startswith(f"Version {version.version} passed the promotion gate"):
        return " ".join([_passed(version), *group_notes(version)]) + note
    if version.status != "rejected":
        return message
    said = _failed_checks(version)
    if not said:
        return message
    return " ".join([f"Version {version.version} was not put in use.", *said, *group_notes(version)]) + note

"""Worker-side commands: `gradeloop bench`, `gradeloop pretrain`, `gradeloop model list|rollback|prune`."""
from __future__ import annotations

import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from lti_app.cli_types import ROW_ID


# A number of essays to score, time or check: 0 would train for nothing (or fail after training),
# and a negative K sliced from the end (`texts[:-5]`: all but the last five) without a word.
ESSAY_COUNT = click.IntRange(min=1)


def _base_model() -> str:
    from config.settings import default_base_model

    return os.environ.get("GRADELOOP_BASE_MODEL") or default_base_model()


def _csv_ints(value: str, what: str) -> list[int]:
    try:
        out = [int(x) for x in value.split(",") if x.strip()]
    except ValueError:
        raise click.BadParameter(f"{what} must be comma-separated integers, not {value!r}") from None
    if not out or any(x <= 0 and what != "seeds" for x in out):
        raise click.BadParameter(f"{what}: give at least one positive integer")
    return out


def _ellipse_path(data: str) -> Path:
    p = Path(data)
    for cand in (p, p / "ellipse.csv", p.parent / "ellipse" / "ellipse.csv"):
        if cand.is_file():
            return cand
    raise click.BadParameter(f"no ellipse.csv at or beside {data}")


@click.command("bench")
@click.option("--data", required=True, help="folder of <prompt>/{train,validation,test}.csv (or ELLIPSE with --traits)")
@click.option("--prompts", default=None, help="comma-separated prompt folders (default: all)")
@click.option("--n", "ns", default="50,100,300", show_default=True)
@click.option("--seeds", default="0", show_default=True)
@click.option("--models", default="default,baseline", show_default=True)
@click.option("--out", default=None, help="write the JSON results here")
@click.option("--traits", is_flag=True, help="ELLIPSE trait scoring instead of PERSUADE holistic scores")
@click.option("--device", default=None, type=click.Choice(["cpu", "cuda"]), help="default: automatic")
@click.option("--max-test", default=None, type=ESSAY_COUNT, help="score only the first K test essays (smoke runs)")
@click.option("--latency-essays", default=60, show_default=True, type=ESSAY_COUNT,
              help="essays timed one by one, taken in turn from every prompt's test split")
@click.option("--parity-essays", default=100, show_default=True, type=ESSAY_COUNT,
              help="validation essays for ONNX parity")
def bench_command(data, prompts, ns, seeds, models, out, traits, device, max_test, latency_essays, parity_essays):
    """Benchmark course models against the TF-IDF baseline on real graded essays."""
    from worker.ml import bench
    from worker.ml.corpora import CorpusError, list_prompts

    ns_, seeds_ = _csv_ints(ns, "n"), _csv_ints(seeds, "seeds")
    models_ = [m.strip() for m in models.split(",") if m.strip()]
    if not models_ or set(models_) - {"default", "baseline"}:
        raise click.BadParameter("models: default and/or baseline")
    try:
        if traits:
            bench.run_traits(_ellipse_path(data), ns_, seeds_, models_, _base_model(), device, out, echo=click.echo)
            return
        available = list_prompts(data)
        chosen = [p.strip() for p in prompts.split(",")] if prompts else available
        unknown = set(chosen) - set(available)
        if unknown:
            raise click.BadParameter(f"unknown prompt(s) {', '.join(sorted(unknown))}; have {', '.join(available)}")
        bench.run_bench(data, chosen, ns_, seeds_, models_, _base_model(), device, out, max_test=max_test,
                        latency_essays=latency_essays, parity_essays=parity_essays, echo=click.echo)
    except CorpusError as exc:
        raise click.ClickException(str(exc)) from exc


@click.command("pretrain")
@click.option("--data", required=True, help="folder of <prompt>/train.csv with holistic scores")
@click.option("--exclude-prompts", default="", help="comma-separated prompts to leave out")
@click.option("--out", default=None, help="default: <GRADELOOP_DATA_DIR>/models/general")
@click.option("--per-prompt", default=2000, show_default=True, type=click.IntRange(min=10), help="at most this many essays per prompt")
def pretrain_command(data, exclude_prompts, out, per_prompt):
    """Pretrain the general essay model (a prior for small courses) on other prompts' grades."""
    from config.settings import load_config
    from worker.ml.corpora import CorpusError
    from worker.ml.general import pretrain

    target = Path(out) if out else load_config().data_dir / "models" / "general"
    try:
        model = pretrain(data, _base_model(), [p.strip() for p in exclude_prompts.split(",") if p.strip()],
                         max_per_prompt=per_prompt)
    except (CorpusError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    model.save(target)
    click.echo(f"general model on prompts {','.join(model.meta['prompts'])} "
               f"({model.meta['n']} essays) saved to {target}")


model_group = click.Group("model", help="Course model versions: list, rollback, prune.")


@model_group.command("list")
@click.option("--assignment", "assignment_id", default=None, type=ROW_ID,
              help="one assignment (default: every assignment that has model versions)")
@with_appcontext
def model_list(assignment_id):
    """List model versions with their held-out metrics and gate decision, per assignment."""
    from lti_app.extensions import db
    from lti_app.models import Assignment, Course, ModelVersion
    from worker.ml.versions import list_versions

    if assignment_id is not None:
        ids = [assignment_id]
    else:   # an administrator does not know assignment ids: name each, with its course
        ids = list(db.session.scalars(db.select(ModelVersion.assignment_id).distinct()
                                      .order_by(ModelVersion.assignment_id)))
        if not ids:
            click.echo("no course model versions yet")
    for aid in ids:
        rows = list_versions(current_app._get_current_object(), aid)
        assignment = db.session.get(Assignment, aid)
        if assignment_id is None:
            course = db.session.get(Course, assignment.course_id) if assignment else None
            click.echo(f"assignment {aid}: {assignment.title if assignment else '(deleted)'}"
                       + (f" (course {course.title or course.context_id})" if course else ""))
        if not rows:
            click.echo(f"assignment {aid} has no model versions")
        for mv in rows:
            held = (mv.metrics or {}).get("held_out") or {}
            reasons = "; ".join((mv.gate or {}).get("reasons", []))
            line = (f"v{mv.version}\t{mv.status}\t{mv.approach}\tn={mv.n_train}\t"
                    f"QWK {held.get('qwk', float('nan')):.3f}\tSMD {held.get('smd', float('nan')):+.3f}")
            # A QWK on the doubled scale of a half-point version is another figure than a whole-point one's.
            line += "\tin half points" if float(held.get("step", 1)) == 0.5 else ""
            pruned = (mv.gate or {}).get("pruned")
            traits = _trait_verdicts(mv.gate, [t["name"] for t in (assignment.traits or [])] if assignment else [])
            line += f"\ttraits: {traits}" if traits else ""
            line += f"\t{reasons}" if reasons else ""
            click.echo(line + (f"\tfiles pruned {pruned['at'][:10]}" if pruned else ""))


def _trait_verdicts(gate: dict | None, names: list[str]) -> str:
    """Which trait scores of a version passed their check and which auto-released grades leave out
    (`trait_checks.withheld`), telling a failed check from a trait never measured; "" without traits.
    The version's own traits when it was measured, else the assignment's (`names`)."""
    from worker.ml import trait_checks

    verdicts = (gate or {}).get("traits")
    names = list(verdicts) if verdicts else names
    withheld = trait_checks.withheld(gate, names)
    unmeasured = [name for name in withheld if verdicts is None or name not in verdicts
                  or trait_checks.NOT_MEASURED in verdicts[name].get("reasons", [])]
    said = [("passed", [name for name in names if name not in withheld]),
            ("withheld (did not pass)", [name for name in withheld if name not in unmeasured]),
            ("not measured (withheld)", unmeasured)]
    return "; ".join(f"{what}: {', '.join(listed)}" for what, listed in said if listed)


@model_group.command("rollback")
@click.option("--assignment", "assignment_id", required=True, type=ROW_ID)
@click.option("--to", "to_version", default=None, type=ROW_ID, help="version number (default: the previous one)")
@with_appcontext
def model_rollback(assignment_id, to_version):
    """Put an earlier model version back in service."""
    from worker.ml.versions import rollback

    try:
        mv = rollback(current_app._get_current_object(), assignment_id, to_version)
    except ValueError as exc:
        raise click.ClickException(_pruned_note(assignment_id, to_version) or str(exc)) from exc
    click.echo(f"assignment {assignment_id}: version {mv.version} is now the current model")


def _pruned_note(assignment_id, version) -> str | None:
    """versions.rollback calls a pruned version's missing graph a failed gate; say what happened."""
    from lti_app.extensions import db
    from lti_app.models import ModelVersion

    if version is None:
        return None
    mv = db.session.scalar(db.select(ModelVersion).filter_by(assignment_id=assignment_id, version=version))
    pruned = (mv.gate or {}).get("pruned") if mv is not None else None
    return (f"version {version}'s files were deleted by `gradeloop model prune` on {pruned['at'][:10]}; "
            "it cannot serve again (its metrics are kept)") if pruned else None


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


@model_group.command("prune")
@click.option("--keep", default=3, show_default=True, type=click.IntRange(min=0),
              help="newest versions kept per assignment, besides the one in service and the rollback target")
@click.option("--assignment", "assignment_id", default=None, type=ROW_ID, help="one assignment (default: all)")
@click.option("--dry-run", is_flag=True, help="only say what would be deleted")
@with_appcontext
def model_prune(keep, assignment_id, dry_run):
    """Delete old model versions' files (the rows and their metrics stay)."""
    from worker.ml.prune import prune

    report = prune(current_app._get_current_object(), keep=keep, assignment_id=assignment_id, dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    for aid, why in report.skipped.items():
        click.echo(f"assignment {aid}: skipped, {why}")
    for p in report.pruned:
        click.echo(f"assignment {p.assignment_id} v{p.version} ({p.status}): {verb} {_mb(p.bytes)}  {p.path}")
    click.echo(f"{'would free' if dry_run else 'freed'} {_mb(report.freed_bytes)} from {len(report.pruned)} "
               f"version{'' if len(report.pruned) == 1 else 's'}")


COMMANDS = (bench_command, pretrain_command, model_group)

"""Score essays with a promoted course model: onnxruntime only (never imports torch).

`score(model, texts)` takes a model directory, a `ModelVersion`, or an app plus
`model_version=`; `score_submission(app, submission_id)` uses the submission's own assignment's
promoted model and refuses any other; its files missing (deleted, or a data dir moved where
`modelfiles.resolve_dir` cannot find them) or unreadable (a graph or meta.json truncated by a
crash, a bad restore: onnxruntime cannot load it) raise `UnusableFiles`, a `NoModel`, logged once
per version directory as `event=model_files_missing` / `event=model_files_unreadable` with the
path, so the essay waits for the teacher instead of being retried into a dead letter.
Sessions are cached per model directory and file, and reloaded when the graph or meta.json on
disk changed (a directory written again under the same path by another process).
"""
from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime as ort

from worker.ml import envelope, modelfiles, rounding
from worker.ml.examples import Target
from worker.ml.general import GeneralModel
from worker.ml.headinputs import head_features
from worker.ml.lexical import Lexical
from worker.ml.textfeatures import FEATURE_NAMES
from worker.ml.tokens import head_tail_ids, length_sorted_batches, load_tokenizer, pad_batch

log = logging.getLogger("gradeloop.worker.scorer")


class ModelMismatch(Exception):
    """The model asked for does not belong to the essay's assignment."""


class NoModel(Exception):
    """The assignment has no promoted model (or its files are gone)."""


class UnusableFiles(NoModel):
    """The promoted version's files are missing or cannot be read: no retry brings them back."""


@dataclass
class Prediction:
    score: int | float              # on the assignment's scale: an int, or a float in halves (3.5) for a
    #   model of a teacher who grades in half points (its meta.json target has "step": 0.5)
    raw: float                      # regression value in the assignment's units, before the cut points
    traits: dict = field(default_factory=dict)   # {name: {"score", "raw", "confidence"}}
    confidence: float = 0.0         # 0..1: P(the score band survives the model's own error)
    unusual: list = field(default_factory=list)  # why the model never learned from an essay like
    #   this one (`envelope.py`); when any, every confidence is 0 and the essay waits for the teacher


@dataclass
class _Loaded:
    session: ort.InferenceSession
    meta: dict
    model_dir: str
    lexical: object = None
    general: object = None
    masked: bool = False    # graphs of older releases take an attention mask and padded batches
    stamp: tuple = ()       # what the files looked like when loaded (`_stamp`)


# Least recently used first. Bounded: a worker serves every course's current version, and a
# session holds ~45 MB (int8 graph, after a 512-token essay); promotions and rollbacks leave
# retired versions behind. GRADELOOP_SCORER_SESSIONS (default 16) sets the bound.
_sessions: OrderedDict[tuple[str, str], _Loaded] = OrderedDict()
_lock = threading.Lock()
_reported_unusable: set[str] = set()   # version directories whose missing or unreadable files were logged


def _stamp(model_dir: str, name: str) -> tuple:
    """Identity of the graph and meta.json on disk. A path is not a version: after a failed run
    the pipeline deletes v<N> and the retry writes v<N> again, and after `erase-user
    --drop-models` numbering restarts at v1. `forget` clears this process's cache, but a scoring
    worker in another process only notices through the files themselves."""
    out = []
    for path in (Path(model_dir) / name, Path(model_dir) / modelfiles.META):
        try:
            st = path.stat()
        except FileNotFoundError:
            out.append(None)
        else:
            out.append((st.st_ino, st.st_mtime_ns, st.st_size))
    return tuple(out)


def _load(model_dir, onnx_file: str | None = None) -> _Loaded:
    model_dir = str(Path(model_dir).resolve())
    meta = modelfiles.read_meta(model_dir)
    name = onnx_file or modelfiles.shipped_onnx(model_dir).name
    key = (model_dir, name)
    stamp = _stamp(model_dir, name)
    with _lock:
        loaded = _sessions.get(key)
        if loaded is not None and loaded.stamp != stamp:
            del _sessions[key]   # rewritten since it was loaded: never score with the old graph
            loaded = None
        if loaded is not None:
            _sessions.move_to_end(key)
        else:
            limit = _positive_setting("GRADELOOP_SCORER_SESSIONS", 16)
            opts = ort.SessionOptions()
            # All cores this process may use (one essay is scored at a time, so the latency of
            # one essay is what counts). Threads spin between the graph's operators (9% faster
            # per essay than sleeping, docs/benchmarks.md) but stop spinning when a run ends, so
            # idle scoring threads never starve a training run in the same worker.
            # GRADELOOP_SCORER_THREADS overrides (docs/operations.md).
            opts.intra_op_num_threads = scorer_threads()
            opts.add_session_config_entry("session.intra_op.allow_spinning", "1")
            opts.add_session_config_entry("session.force_spinning_stop", "1")
            # On an x86 CPU without VNNI, onnxruntime's fast uint8 x int8 product saturates with
            # 8-bit weights (quantise.py): this makes it multiply them exactly (u8u8) instead.
            # Twice closer to the torch model there, ~15% slower per essay; a no-op with VNNI.
            opts.add_session_config_entry("session.x64quantprecision", "1")
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            graph = Path(model_dir) / name
            with _reading(graph):
                session = ort.InferenceSession(str(graph), opts, providers=["CPUExecutionProvider"])
            with _reading(Path(model_dir) / modelfiles.TOKENIZER):
                load_tokenizer(model_dir)   # cached for scoring; loaded here so damage shows now
            with _reading(Path(model_dir)):
                lexical = Lexical.load(model_dir) if meta.get("lexical_file") else None
                general = GeneralModel.load(model_dir) if meta.get("general_file") else None
            masked = "attention_mask" in {i.name for i in session.get_inputs()}
            loaded = _sessions[key] = _Loaded(session, meta, model_dir, lexical, general, masked, stamp)
            while len(_sessions) > limit:
                _sessions.popitem(last=False)
        return loaded


@contextmanager
def _reading(path: Path):
    """A model file that is there but fails to load (onnxruntime's InvalidProtobuf or Fail, a
    damaged tokenizer or weights file, one this process may not read) becomes
    `modelfiles.UnreadableFiles`; a missing one stays a FileNotFoundError. A passing failure of the
    machine (out of memory, too many open files, a disk read error) is raised as it is: the job is
    retried, and the model is not called damaged."""
    try:
        yield
    except (FileNotFoundError, modelfiles.UnreadableFiles, MemoryError):
        raise
    except PermissionError as exc:
        raise modelfiles.UnreadableFiles(f"{path} cannot be read: {exc}", path) from exc
    except OSError:
        raise
    except Exception as exc:  # noqa: BLE001  each library has its own errors for a damaged file
        raise modelfiles.UnreadableFiles(f"{path} cannot be read: {exc}", path) from exc


def _positive_setting(name: str, default: int) -> int:
    configured = os.environ.get(name, "").strip()
    if not configured:
        return default
    if not configured.isdigit() or int(configured) < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {configured!r}")
    return int(configured)


def scorer_threads() -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return _positive_setting("GRADELOOP_SCORER_THREADS", max(1, min(8, cores)))


def forget(model_dir) -> None:
    """Drop cached sessions of a model directory (after rollback/retirement, and by the pipeline
    before it writes a version directory and after a failed run removed one)."""
    model_dir = str(Path(model_dir).resolve())
    with _lock:
        for key in [k for k in _sessions if k[0] == model_dir]:
            del _sessions[key]


def raw_predictions(model_dir, texts, onnx_file: str | None = None, batch_size: int = 8) -> np.ndarray:
    """Raw predictions in training units (a half-point target's doubled), one column per target
    (overall first)."""
    return _raw_and_surface(model_dir, texts, onnx_file, batch_size)[0]


def _raw_and_surface(model_dir, texts, onnx_file: str | None = None, batch_size: int = 8):
    loaded = _load(model_dir, onnx_file)
    meta = loaded.meta
    texts = list(texts)
    ids = head_tail_ids(loaded.model_dir, texts, meta["max_length"], meta["head_tokens"])
    feats = head_features(loaded.model_dir, texts, loaded.lexical, loaded.general)
    out = np.zeros((len(texts), len(meta["targets"])), dtype=np.float64)
    # Current graphs take one essay per run, unpadded (`export.Unpadded`): no slower than batches
    # on CPU, and an essay's int8 score never depends on the essays run beside it (the dynamic
    # quantiser picks one scale per batch: up to 0.01 raw in a batch of 8).
    for batch in length_sorted_batches([len(x) for x in ids], batch_size if loaded.masked else 1):
        input_ids, mask = pad_batch([ids[i] for i in batch])
        feed = {"input_ids": input_ids, "features": feats[batch]}
        if loaded.masked:
            feed["attention_mask"] = mask
        (raw,) = loaded.session.run(["raw"], feed)
        out[batch] = raw
    for j, t in enumerate(meta["targets"]):
        out[:, j] = t["lo"] + out[:, j] * max(1, t["hi"] - t["lo"])
    return out, feats[:, :len(FEATURE_NAMES)]


def _predictions(meta: dict, raw: np.ndarray, surface: np.ndarray, texts: list[str]) -> list[Prediction]:
    """Scores in the assignment's units: the graph and cut points work in training units, which
    for a half-point target (`step` 0.5; versions without a step are whole-point) are half points."""
    targets = [Target(t["name"], t["lo"], t["hi"], float(t.get("step", 1))) for t in meta["targets"]]
    preds = []
    for row, features, text in zip(raw, surface, texts):
        unusual = envelope.reasons(meta.get("envelope"), features, text)
        parts = []
        for j, t in enumerate(targets):
            value = float(np.clip(row[j], t.lo, t.hi))
            s = int(rounding.apply_cuts([value], meta["cuts"][j], t.lo)[0])
            conf = 0.0 if unusual else rounding.confidence(value, meta["cuts"][j], t.lo, meta["sigma"][j], t.step)
            parts.append({"score": t.in_scale(s), "raw": value * t.step, "confidence": conf})
        head = parts[0]
        preds.append(Prediction(score=head["score"], raw=head["raw"], confidence=head["confidence"],
                                traits={t.name: p for t, p in zip(targets[1:], parts[1:])}, unusual=unusual))
    return preds


def _model_dir_of(model, data_dir=None) -> str:
    """The directory of a model version (or a directory given as such). A `ModelVersion`'s
    stored path is resolved against `data_dir` (default: the app's, inside an app context) in
    case the data dir moved since it was written (`modelfiles.resolve_dir`)."""
    path = getattr(model, "onnx_path", None) and getattr(model, "path", None)
    if path:
        if data_dir is None:
            from flask import current_app, has_app_context

            data_dir = current_app.config.get("GRADELOOP_DATA_DIR") if has_app_context() else None
        return str(modelfiles.resolve_dir(path, data_dir))
    if getattr(model, "path", None):
        raise NoModel(f"model version {getattr(model, 'id', '?')} has no exported ONNX graph")
    return str(model)


def score(app_or_model_dir, texts, *, model_version=None, onnx_file: str | None = None) -> list[Prediction]:
    """Score `texts`. First argument: a model directory or a `ModelVersion`; or a Flask app
    together with `model_version=` (a `ModelVersion` or its id). `onnx_file` picks another graph
    of the same version (benchmarks); default: the shipped one."""
    target = app_or_model_dir
    if hasattr(app_or_model_dir, "app_context"):
        if model_version is None:
            raise TypeError("score(app, texts) needs model_version= (or use score_submission)")
        with app_or_model_dir.app_context():
            target = _resolve_version(model_version)
    model_dir = _model_dir_of(target)
    texts = [t if isinstance(t, str) else "" for t in texts]
    if not texts:
        return []
    raw, surface = _raw_and_surface(model_dir, texts, onnx_file=onnx_file)
    return _predictions(_load(model_dir, onnx_file).meta, raw, surface, texts)


def _resolve_version(model_version):
    from lti_app.extensions import db
    from lti_app.models import ModelVersion

    mv = db.session.get(ModelVersion, model_version) if isinstance(model_version, int) else model_version
    if mv is None:
        raise NoModel(f"model version {model_version} does not exist")
    return mv


def score_submission(app, submission_id: int) -> Prediction:
    """Score one submission with ITS assignment's promoted model; refuse anything else."""
    from lti_app.extensions import db
    from lti_app.models import ModelVersion, Submission

    with app.app_context():
        sub = db.session.get(Submission, submission_id)
        if sub is None:
            raise LookupError(f"submission {submission_id} does not exist")
        assignment = sub.assignment
        if assignment.current_model_id is None:
            raise NoModel(f"assignment {assignment.id} has no promoted model")
        mv = db.session.get(ModelVersion, assignment.current_model_id)
        if mv is None or mv.assignment_id != assignment.id:
            raise ModelMismatch(f"model {assignment.current_model_id} does not belong to assignment {assignment.id}")
        if mv.status != "promoted":
            raise NoModel(f"model version {mv.version} of assignment {assignment.id} is {mv.status}")
        model_dir = _model_dir_of(mv, app.config.get("GRADELOOP_DATA_DIR"))
        text, version, assignment_id = sub.text, mv.version, assignment.id
    try:
        meta = modelfiles.read_meta(model_dir)
        # The directory itself says whose model it is: a copied or mis-pointed path is refused too.
        if meta.get("assignment_id") != assignment_id:
            raise ModelMismatch(f"files at {model_dir} belong to assignment {meta.get('assignment_id')}, "
                                f"not {assignment_id}")
        prediction = score(model_dir, [text])[0]
    except (FileNotFoundError, modelfiles.UnreadableFiles) as exc:
        # Files deleted, moved, or damaged (truncated by a crash, a bad restore) under a promoted
        # version. Retrying cannot mend them, so the essay waits for the teacher (NoModel) instead
        # of being retried and dead-lettered; the operator gets one error per version directory,
        # naming the path.
        state = "missing" if isinstance(exc, FileNotFoundError) else "unreadable"
        path = getattr(exc, "path", None) or getattr(exc, "filename", None) or model_dir
        if model_dir not in _reported_unusable:
            _reported_unusable.add(model_dir)
            log.error("event=model_files_%s assignment_id=%s version=%s path=%s detail=%r: essays of "
                      "this assignment wait for the teacher until the files are restored or another "
                      "version is promoted", state, assignment_id, version, path, str(exc))
        forget(model_dir)
        raise UnusableFiles(f"files of model version {version} of assignment {assignment_id} are {state}: "
                            f"{path}") from exc
    _reported_unusable.discard(model_dir)
    return prediction

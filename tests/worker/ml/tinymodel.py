"""A scorable model version directory without torch or training: a real ONNX graph (onnx.helper)
that ignores the essay and answers one constant, the packaged tokenizer, and a meta.json like
`export.save_torch` writes. For tests of what surrounds a model (paths, caches, the gate,
leases, erasure), not of the model itself: those train real ones (conftest.py)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from config.settings import default_base_model
from worker.ml import modelfiles, rounding


def write_graph(path: Path, raw: float = 0.5) -> Path:
    """raw = 0 * sum(features) + `raw` (normalised 0..1), one column; input_ids unused."""
    import onnx
    from onnx import TensorProto, helper

    nodes = [
        helper.make_node("ReduceSum", ["features", "axes"], ["summed"], keepdims=1),
        helper.make_node("Mul", ["summed", "zero"], ["nothing"]),
        helper.make_node("Add", ["nothing", "value"], ["raw"]),
    ]
    graph = helper.make_graph(
        nodes, "tiny",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
         helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", "n"])],
        [helper.make_tensor_value_info("raw", TensorProto.FLOAT, ["batch", 1])],
        initializer=[helper.make_tensor("axes", TensorProto.INT64, [1], [1]),
                     helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0]),
                     helper.make_tensor("value", TensorProto.FLOAT, [], [raw])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def write_meta(model_dir: Path, **extra) -> dict:
    """meta.json of a 1-6 model with no ONNX graph yet (what `save_torch` leaves behind)."""
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Path(default_base_model()) / modelfiles.TOKENIZER, model_dir / modelfiles.TOKENIZER)
    meta = {"approach": "frozen-ridge", "lexical_file": None, "general_file": None,
            "targets": [{"name": "overall", "lo": 1, "hi": 6}], "cuts": [rounding.default_cuts(1, 6)],
            "sigma": [0.5], "max_length": 512, "head_tokens": 128, "torch_file": "head.pt", "envelope": None,
            "onnx_file": None, **extra}
    modelfiles.write_meta(model_dir, meta)
    return meta


def export(model_dir: Path, raw: float = 0.5, name: str = modelfiles.ONNX_FP32) -> dict:
    """Add the graph to a directory `write_meta` made; returns the meta (like `export_model`)."""
    write_graph(Path(model_dir) / name, raw)
    meta = json.loads((Path(model_dir) / modelfiles.META).read_text())
    meta.update(onnx_file=name, parity={"shipped": "fp32"})
    modelfiles.write_meta(model_dir, meta)
    return meta


def make_version(model_dir: Path, raw: float = 0.5, **meta) -> Path:
    write_meta(model_dir, **meta)
    export(model_dir, raw)
    return Path(model_dir)


def promoted_v1(app, assignment, raw: float = 0.5):
    """A v1 of `assignment` in the data dir, promoted (the caller commits); returns (dir, row)."""
    from lti_app.extensions import db
    from lti_app.models import ModelVersion
    from worker.ml import versions

    model_dir = make_version(versions.version_dir(app, assignment.id, 1), raw=raw, assignment_id=assignment.id)
    version = ModelVersion(assignment_id=assignment.id, version=1, approach="frozen-ridge", path=str(model_dir),
                           onnx_path=str(model_dir / "model.onnx"), metrics={}, gate={})
    db.session.add(version)
    db.session.flush()
    versions.promote(assignment, version)
    return model_dir, version


def served_course(app, essays: int = 1):
    """A fresh assignment with a promoted v1 in `app`'s data dir and `essays` new essays waiting to
    be scored: (aid, mv_id, model_dir, submission ids)."""
    from lti_app.extensions import db
    from lti_app.models import Submission
    from tests.worker.coursework import make_assignment

    with app.app_context():
        a = make_assignment()
        model_dir, mv = promoted_v1(app, a)
        subs = [Submission(assignment_id=a.id, text=f"Essay {i}: phones at school help students learn. " * 10,
                           word_count=80) for i in range(essays)]
        db.session.add_all(subs)
        db.session.commit()
        return a.id, mv.id, model_dir, [s.id for s in subs]

"""int8 forms of an exported scoring graph (onnxruntime dynamic quantisation), fastest first.

- `int8`: every encoder product int8 (`quantize_dynamic(per_channel=True)`; plain per-tensor
  int8 moved scores by up to 0.5 on a 1-6 scale).
- `int8-mixed`: the same, but the down-projections (the feed-forward output products, 1536 -> 384
  in MiniLM) stay fp32. Their input is the GELU output, whose few outlier channels stretch the one
  activation scale the dynamic quantiser picks per essay: on 24 courses of the benchmark
  (12 prompts x N=100/300) keeping them fp32 halved the mean raw error (0.015 -> 0.008 score
  points) and moved 14 validation scores instead of 31, for ~5 ms more per essay (docs/models.md).

On an x86 CPU without VNNI (AVX2 only: AMD EPYC Milan and older, Intel before Cascade Lake)
onnxruntime's fast uint8 x int8 product (VPMADDUBSW) adds pairs of products into a saturating
int16, which 8-bit weights overflow; the scorer turns on onnxruntime's exact u8u8 products there
(`scorer._load`, `session.x64quantprecision`), so the weights keep all 8 bits. 7-bit weights
(`reduce_range`, which cannot overflow) were measured and dropped: on 12 courses of an AMD EPYC
(Zen 3) they moved twice as many validation scores (30 vs 15) for ~9% less time per essay
(docs/benchmarks.md, `benchmarks/int8_forms.py --weight-bits`).

The linear head always stays fp32: its input mixes unit-scale embeddings with raw surface features
(lengths, ratios) under large folded-in weights, and one per-tensor uint8 scale for that
activation moved scores by whole points; it is 0.01% of the compute. `export.export_model` ships
the first form that keeps parity with the torch model, else the fp32 graph.
"""
from __future__ import annotations

import logging
import platform
from pathlib import Path

from worker.ml import modelfiles

# (form, file name, keep the down-projections in fp32), fastest first.
FORMS = (("int8", modelfiles.ONNX_INT8, False), ("int8-mixed", modelfiles.ONNX_INT8_MIXED, True))
# Every form a parity record may hold, in the order they are tried.
CHECKED_FORMS = tuple(form for form, _, _ in FORMS) + ("fp32",)


def _constant_shapes(graph) -> dict:
    return {t.name: tuple(t.dims) for t in graph.initializer}


def down_projections(graph) -> list[str]:
    """Encoder MatMuls whose constant weight has more rows than columns (k inputs -> n < k
    outputs): the feed-forward output products. Found by shape, not by name, so any
    BERT-like encoder a deployer configures is covered."""
    shapes = _constant_shapes(graph)
    return [n.name for n in graph.node
            if n.op_type == "MatMul" and not n.name.startswith("/head/")
            and len(shapes.get(n.input[1], ())) == 2 and shapes[n.input[1]][0] > shapes[n.input[1]][1]]


# CPU flags that give onnxruntime an exact (non-saturating) uint8 x int8 product.
VNNI_FLAGS = {"avx512_vnni", "avx_vnni", "amx_int8"}


def x86_without_vnni(cpuinfo: str | None = None, machine: str | None = None) -> bool:
    """True on an x86 CPU whose flags (Linux /proc/cpuinfo) show no VNNI, or cannot be read:
    there an int8 graph runs onnxruntime's exact but slower u8u8 products (see the module
    docstring), which is why `gradeloop bench` prints it beside its latency figures. False on
    other architectures (ARM's int8 dot products do not saturate)."""
    machine = (machine or platform.machine()).lower()
    if machine not in ("x86_64", "amd64", "i686", "i386"):
        return False
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return True
    flags = next((line.split(":", 1)[1].split() for line in cpuinfo.splitlines()
                  if line.startswith("flags")), None)
    return flags is None or not VNNI_FLAGS & set(flags)


def quantise(fp32: Path, out: Path, keep_down_projections: bool = False, keep_nodes=(),
             reduce_range: bool = False) -> Path:
    """Write the int8 form of `fp32` to `out` (see the module docstring for what stays fp32);
    `keep_nodes`: more node names left fp32 (`benchmarks/int8_forms.py` compares choices);
    `reduce_range`: 7-bit weights (only the benchmark's comparison asks for them)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(fp32), load_external_data=False).graph
    keep = [n.name for n in graph.node if n.name.startswith("/head/")] + list(keep_nodes)
    if keep_down_projections:
        keep += down_projections(graph)
    # The quantiser first rewrites Gemm as `<name>_MatMul` + Add, so exclude both spellings.
    keep += [name + "_MatMul" for name in keep]
    root = logging.getLogger()
    root.addFilter(_quantiser_chatter)
    try:
        quantize_dynamic(str(fp32), str(out), per_channel=True, weight_type=QuantType.QInt8,
                         reduce_range=reduce_range,
                         nodes_to_exclude=keep, extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    finally:
        root.removeFilter(_quantiser_chatter)
    return out


def _quantiser_chatter(record: logging.LogRecord) -> bool:
    """The quantiser logs through the root logger: two dozen INFO lines per export (tensors it
    leaves alone, by design here) and a generic 'consider pre-processing' warning that only applies
    to static quantisation of CNNs. They would bury the worker's own lines; real warnings pass."""
    if record.levelno < logging.WARNING:
        return False
    return "pre-processing before quantization" not in record.getMessage()

"""Course models: train on a teacher's grades, gate new versions, export to ONNX, score fast.

Public API (see docs/models.md): `training_set.load_examples`, `pipeline.train_assignment`,
`scorer.score` / `scorer.score_submission`, `versions.rollback` / `versions.list_versions`.
Modules that only need numpy/onnxruntime (scorer, metrics, textfeatures, tokens) never import
torch, so the web side and the scoring path stay light.
"""

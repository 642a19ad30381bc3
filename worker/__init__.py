"""Gradeloop worker: consumes queue events, trains course models, scores essays, syncs grades."""

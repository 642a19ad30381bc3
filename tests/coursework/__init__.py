"""Coursework tests: assignments, hand-ins, grading, CSV, gradebook sync through the peer LMS."""

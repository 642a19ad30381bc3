"""Tests of the event-driven worker (messaging, reliability, handlers, deployment files)."""

"""End-to-end auto-feedback tests: real worker process, LMS peer over HTTP, trained course model."""

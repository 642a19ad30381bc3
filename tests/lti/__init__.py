"""LTI launch tests (through the platform peer, tests/peer.py)."""

"""Ports for tests: free ones for a server a test starts in a subprocess, and held ones that no other
process can take while a test uses them.

A port found free by binding port 0 and closing the socket can be taken by another process (a test
run beside this one, a service starting) before the test's server binds it. `start_on_free_ports`
starts the server again on new ports when it says its port was in use (the start raises
`PortTaken`). A port a test needs refused (a database, broker or website that is down) or busy is a
`held_port`: bound by this process for as long as the test needs it, so nothing else listens there
meanwhile; connecting to a bound socket that does not listen is refused at once, as to a closed port.
"""
from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")

# How a server says its port is taken: the OS's EADDRINUSE (the sandbox LMS, Python servers) and
# gunicorn's arbiter, which retries a few times and then exits.
PORT_IN_USE = ("Address already in use", "Connection in use")


class PortTaken(Exception):
    """The server could not bind a port found free a moment before: another process took it."""


def free_ports(count: int) -> list[int]:
    """`count` different ports nothing listens on now (all bound at once, so never the same one twice)."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def free_port() -> int:
    return free_ports(1)[0]


@contextmanager
def held_port(*, listening: bool = False) -> Iterator[int]:
    """A port bound by this test until the block ends: connecting to it is refused, or, `listening`,
    it is busy (a server binding it fails) and connections wait unanswered."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        if listening:
            sock.listen()
        yield sock.getsockname()[1]


def raise_if_port_taken(output: str) -> None:
    """Raise `PortTaken` when a server's `output` says it could not bind its port."""
    if any(words in output for words in PORT_IN_USE):
        raise PortTaken(output[-2000:])


def wait_until_said(proc: subprocess.Popen, output: Path, words: str, timeout: float) -> None:
    """Wait until the server `proc` writes `words` into its `output` file. `PortTaken` if it exited
    saying its port was in use; the test fails if it exited otherwise, or is stopped (Ctrl-C, as a
    person would) and fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while words not in output.read_text():
        if proc.poll() is not None:
            raise_if_port_taken(output.read_text())
            pytest.fail(f"the server exited with {proc.returncode}:\n{output.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=40)
            pytest.fail(f"no {words!r} after {timeout:g} s:\n{output.read_text()[-3000:]}")
        time.sleep(0.3)


def start_on_free_ports(count: int, start: Callable[..., T], attempts: int = 3) -> T:
    """`start(*ports)` on `count` free ports; on `PortTaken`, again on new ones, up to `attempts` times
    in all. `start` stops whatever it started before raising."""
    for _ in range(attempts - 1):
        try:
            return start(*free_ports(count))
        except PortTaken:
            pass
    return start(*free_ports(count))

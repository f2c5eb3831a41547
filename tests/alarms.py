"""One time limit for tests that call code which could block (a FIFO, a lock, a slow check)."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator


@contextlib.contextmanager
def no_hang(seconds: int = 20) -> Iterator[None]:
    """Fail the test with an AssertionError when the block runs longer than ``seconds``."""
    def ring(signum, frame):
        raise AssertionError(f"no answer after {seconds} s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)

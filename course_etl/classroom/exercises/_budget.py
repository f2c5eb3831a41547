"""A time budget for a student's Python answer, as SQL answers have one per statement.

A check calls student code (a load, a task, a rule, a freshness function) inside
:func:`time_budget`. When the budget runs out, :class:`AnswerTimeout` is raised *in the student's
code*, wherever it is looping, and the check turns it into a verdict ("did not finish within 5 s")
instead of a kernel that never comes back. It derives from ``BaseException`` so that a student's
``except Exception:`` around the loop does not swallow it; and it is raised again every
:data:`REPEAT` seconds until the budgeted block is left, so even a bare ``except:`` inside a loop
only delays it.

How, where: in the main thread of a POSIX system (Linux and macOS; a Jupyter kernel runs cells
in its main thread) a real-time interval timer (``signal.setitimer``) raises it from a ``SIGALRM``
handler, which also cuts short a ``time.sleep``. Elsewhere (a check called from another thread,
or Windows, which has no ``SIGALRM``) a watchdog thread injects it into the checking thread with
``PyThreadState_SetAsyncExc``, which takes effect at the next Python instruction. SQL that a
Python answer runs on a check's connection is stopped by :func:`watch_connection` (SQLite's
progress handler), since neither mechanism interrupts C code. Budgets nest: an inner one never
outlasts the outer one, and a timer set before (``signal.alarm`` of a test tool) is re-armed
with what was left of it when the outermost budget ends.
"""

from __future__ import annotations

import ctypes
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from course_etl.errors import checked

__all__ = ["AnswerTimeout", "SECONDS_PER_CALL", "time_budget", "out_of_time",
           "watch_connection"]

#: How long one call of a student's Python answer may run on one scenario (they take
#: milliseconds; this only has to stop a loop that never ends, on a loaded machine too).
SECONDS_PER_CALL = 5.0
#: After the budget ran out, the timeout is raised again this often until the block is left.
REPEAT = 0.05


class AnswerTimeout(BaseException):  # noqa: N818 - the name a verdict's reader sees
    """The student's code ran longer than its budget."""

    def __init__(self, seconds: float):
        super().__init__(f"did not finish within {seconds:g} s")
        self.seconds = seconds


class _Budget:
    """One running budget: when it ends, for how long it was given, whether it is still on."""

    def __init__(self, seconds: float, outer: _Budget | None):
        deadline = time.monotonic() + seconds
        self.deadline = min(deadline, outer.deadline) if outer else deadline
        self.seconds = seconds if not outer or deadline <= outer.deadline else outer.seconds
        self.running = True
        self.fired = 0  # how many times the timeout was raised (a student may swallow it)
        self.trace_before: object = None


class _Stack(threading.local):
    def __init__(self) -> None:
        self.budgets: list[_Budget] = []  # innermost last


_STACK = _Stack()
_BEFORE: dict[str, object] = {}  # the SIGALRM handler and timer found by the outermost budget


def _innermost() -> _Budget | None:
    budgets = _STACK.budgets
    return budgets[-1] if budgets else None


def out_of_time() -> bool:
    """Has the innermost budget of this thread run out?"""
    budget = _innermost()
    return budget is not None and budget.running and time.monotonic() >= budget.deadline


@checked
def watch_connection(conn: sqlite3.Connection) -> sqlite3.Connection:
    """Make SQLite stop a statement on ``conn`` when the running budget is out (returns conn)."""
    conn.set_progress_handler(out_of_time, 10_000)
    return conn


def _use_signals() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def _on_alarm(_signum, frame) -> None:
    budget = _innermost()
    if budget is None or not budget.running:
        return  # being left: nothing to interrupt
    if time.monotonic() >= budget.deadline - 0.001:
        budget.fired += 1
        if budget.fired >= 2:  # it was swallowed (a bare except in a loop)
            _raise_in_handlers(budget, frame)
        raise AnswerTimeout(budget.seconds)
    _arm(budget)  # early (an inner budget ended meanwhile): wait for this one


def _raise_in_handlers(budget: _Budget, frame) -> None:
    """Trace the running frames and every new one so that a line run while an exception is
    being handled raises AnswerTimeout: the handler of ``while True: try: … except: pass`` then
    gets it where nothing catches it. (CPython stops tracing when a trace function raises: the
    next alarm traces again.) This module's and contextlib's frames are let through."""

    def tracer(frame, _event, _arg):
        if not budget.running or frame.f_globals.get("__name__") in (__name__, "contextlib"):
            return None
        if sys.exc_info()[1] is not None:
            raise AnswerTimeout(budget.seconds)
        return tracer

    if budget.fired == 2:
        budget.trace_before = sys.gettrace()
    while frame is not None:
        frame.f_trace = tracer
        frame = frame.f_back
    sys.settrace(tracer)


def _arm(budget: _Budget) -> None:
    signal.setitimer(signal.ITIMER_REAL, max(budget.deadline - time.monotonic(), 0.001), REPEAT)


def _leave(budget: _Budget, finish) -> None:
    """End ``budget`` (``finish`` restores timers): safe against a timeout raised meanwhile,
    which is dropped, since the block it was meant for is over."""
    while True:
        try:
            budget.running = False
            if budget.fired >= 2:
                sys.settrace(budget.trace_before)
            if _STACK.budgets and _STACK.budgets[-1] is budget:
                _STACK.budgets.pop()
            finish()
            return
        except AnswerTimeout:
            continue


@contextmanager
def _signal_budget(seconds: float) -> Iterator[None]:
    if not _STACK.budgets:  # the outermost budget: keep what was there, restore it after
        _BEFORE.update(handler=signal.getsignal(signal.SIGALRM),
                       timer=signal.getitimer(signal.ITIMER_REAL), since=time.monotonic())
        signal.signal(signal.SIGALRM, _on_alarm)
    budget = _Budget(seconds, _innermost())
    _STACK.budgets.append(budget)
    _arm(budget)

    def finish() -> None:
        outer = _innermost()
        if outer is not None:
            _arm(outer)
            return
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, _BEFORE["handler"])
        (left, interval), since = _BEFORE["timer"], _BEFORE["since"]
        if left:  # a timer someone set before: what was left of it
            signal.setitimer(signal.ITIMER_REAL, max(left - (time.monotonic() - since), 0.001),
                             interval)

    try:
        yield
    finally:
        _leave(budget, finish)


def _inject(thread_id: int, exception: type | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id),
                                               ctypes.py_object(exception)
                                               if exception else None)


@contextmanager
def _thread_budget(seconds: float) -> Iterator[None]:
    budget = _Budget(seconds, _innermost())
    _STACK.budgets.append(budget)
    target, done = threading.get_ident(), threading.Event()
    # SetAsyncExc takes a class: one whose instances say this budget's seconds.
    timeout = type("AnswerTimeout", (AnswerTimeout,),
                   {"__init__": lambda self: AnswerTimeout.__init__(self, budget.seconds)})

    def watchdog() -> None:
        if done.wait(max(budget.deadline - time.monotonic(), 0)):
            return
        while not done.is_set():
            _inject(target, timeout)
            done.wait(REPEAT)

    guard = threading.Thread(target=watchdog, name="answer-time-budget", daemon=True)
    guard.start()

    def finish() -> None:
        done.set()
        guard.join()
        _inject(target, None)  # an injection that has not fired yet is dropped

    try:
        yield
    finally:
        _leave(budget, finish)


@contextmanager
def time_budget(seconds: float = SECONDS_PER_CALL) -> Iterator[None]:
    """Run the block for at most ``seconds`` (or what is left of an enclosing budget); raise
    :class:`AnswerTimeout` inside it when the time is up."""
    budget = _signal_budget if _use_signals() else _thread_budget
    with budget(seconds):
        yield

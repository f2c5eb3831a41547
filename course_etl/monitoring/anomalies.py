"""Anomaly checks: is today's number (rows loaded, seconds taken) unusual against the run history?

Both compare with a robust z-score (median and MAD, Iglewicz & Hoaglin), judged only once enough
history exists: with three runs, every run looks unusual or nothing does.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from course_etl.errors import checked
from course_etl.monitoring.check_results import (
    CheckResult,
    _count,
    _fail_config,
    _positive_number,
)

__all__ = ["MAD_SCALE", "robust_z_score", "volume_anomaly", "duration_anomaly"]

# Iglewicz & Hoaglin's modified z-score: 0.6745 makes the MAD comparable to a standard deviation.
MAD_SCALE = 0.6745
_MEAN_AD_SCALE = 1.253314  # when MAD is 0 (over half the history identical), use the mean AD

@checked
def robust_z_score(value: float, history: Sequence[float]) -> float:
    """How unusual ``value`` is compared with ``history``: the modified z-score.

    ``0.6745 * (value - median) / MAD``; one outlier in the history barely moves median and MAD,
    where it would inflate a mean and standard deviation and hide the next outlier. When the MAD
    is 0 the mean absolute deviation stands in; a constant history makes any change infinite.
    """
    median = statistics.median(history)
    mad = statistics.median(abs(x - median) for x in history)
    if mad > 0:
        return MAD_SCALE * (value - median) / mad
    mean_ad = statistics.fmean(abs(x - median) for x in history)
    if mean_ad > 0:
        return (value - median) / (_MEAN_AD_SCALE * mean_ad)
    return 0.0 if value == median else math.copysign(math.inf, value - median)


def _anomaly(
    check: str, metric: str, observed: object, history: object, *, min_history: object,
    warn_score: object, fail_score: object, upper_only: bool, unit: str,
) -> CheckResult:
    if isinstance(observed, bool) or not isinstance(observed, int | float):
        raise _fail_config(check, None, f"field 'observed' must be a number, not {observed!r}",
                           option="observed", value=observed)
    if not isinstance(history, Sequence) or isinstance(history, str) or any(
            isinstance(x, bool) or not isinstance(x, int | float) for x in history):
        raise _fail_config(check, None, f"field 'history' must be a list of numbers, "
                                        f"not {history!r}", option="history", value=history)
    needed = _count(min_history, check, None, "min_history")
    if needed < 3:
        raise _fail_config(check, None, f"field 'min_history' must be at least 3 (a median of "
                                        f"fewer runs says nothing), not {needed}",
                           option="min_history", value=min_history, expected=">= 3")
    warn = _positive_number(warn_score, check, "warn_score")
    fail = None if fail_score is None else _positive_number(fail_score, check, "fail_score")
    if fail is not None and fail < warn:
        raise _fail_config(check, None, "field 'fail_score' is lower than 'warn_score'",
                           option="fail_score", value=fail_score, expected=f">= {warn:g}")
    name = f"{check}({metric})"
    expected = f"|z| <= {warn:g}" if not upper_only else f"z <= {warn:g}"
    if len(history) < needed:
        return CheckResult(name, "pass", observed, expected,
                           f"only {len(history)} of {needed} runs of history: not judged yet")
    score = robust_z_score(observed, history)
    size = score if upper_only else abs(score)
    median = statistics.median(history)
    if fail is not None and size > fail:
        status = "fail"
    elif size > warn:
        status = "warn"
    else:
        status = "pass"
    shown = "inf" if math.isinf(score) else f"{score:.1f}"
    message = f"{_number(observed)} {unit} vs median {_number(median)} (robust z = {shown})"
    return CheckResult(name, status, observed, expected, message)


def _number(value: float) -> str:
    """Whole numbers as they are, others to one decimal: what a reader needs, no noise."""
    return f"{value:g}" if float(value).is_integer() else f"{value:.1f}"


def volume_anomaly(
    observed: int | float, history: Sequence[int | float], *, metric: str = "rows",
    min_history: int = 7, warn_score: float = 3.5, fail_score: float | None = None,
) -> CheckResult:
    """Today's volume (e.g. rows loaded) is unusual, high or low, against earlier runs.

    Judged only with at least ``min_history`` earlier values: with three runs, every run looks
    unusual or nothing does. ``warn_score``/``fail_score`` are robust z-score thresholds.
    """
    return _anomaly("volume_anomaly", metric, observed, history, min_history=min_history,
                    warn_score=warn_score, fail_score=fail_score, upper_only=False, unit="rows")


def duration_anomaly(
    observed_seconds: float, history_seconds: Sequence[float], *, metric: str = "seconds",
    min_history: int = 7, warn_score: float = 3.5, fail_score: float | None = None,
) -> CheckResult:
    """A task took unusually long against its earlier runs (being fast is never flagged)."""
    return _anomaly("duration_anomaly", metric, observed_seconds, history_seconds,
                    min_history=min_history, warn_score=warn_score, fail_score=fail_score,
                    upper_only=True, unit="s")

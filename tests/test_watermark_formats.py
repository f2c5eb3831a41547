"""Watermark formats: the Python classifier and the SQL predicates are one rule, on generated
values (real stamps, and the same stamps bent: other separators, spaces, digits, zones,
impossible days, numbers, NULL)."""

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_etl.loads import formats
from course_etl.loads.watermarks import Watermark, lower_bound

# Every format the classifier names, written out once.
FORMATS = ["integer", "YYYY-MM-DD", "YYYY-MM-DD hh:mm", "YYYY-MM-DD hh:mm:ss",
           "YYYY-MM-DDThh:mm:ss", "YYYY-MM-DD hh:mm:ss.fff", "YYYY-MM-DD hh:mm:ssZ",
           "YYYY-MM-DDThh:mm:ss.ffffff+02:00", "YYYY-MM-DD hh:mm-05:30", "YYYY-MM-DDThh:mmZ"]

moments = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 30))


@st.composite
def stamps(draw):
    """A stamp in one of the formats, then maybe bent the way real sources bend them."""
    fmt = draw(st.sampled_from(FORMATS[1:]))
    text = formats.render(draw(moments), fmt)
    bend = draw(st.sampled_from(["none", "space", "char", "cut", "day", "hour", "year"]))
    if bend == "space":
        text = draw(st.sampled_from([" " + text, text + " ", text.replace("-", "- ", 1)]))
    elif bend == "char":
        at = draw(st.integers(0, len(text) - 1))
        text = text[:at] + draw(st.sampled_from("0 9/-:.TZ+a")) + text[at + 1:]
    elif bend == "cut":
        text = text[:draw(st.integers(0, len(text)))]
    elif bend == "day":
        text = text[:8] + draw(st.sampled_from(["30", "31", "00", "32"])) + text[10:]
    elif bend == "hour" and len(text) > 13:
        text = text[:11] + draw(st.sampled_from(["24", "25", "99"])) + text[13:]
    elif bend == "year":
        text = draw(st.sampled_from(["0000", "10000", "-001"])) + text[4:]
    return text


values = st.one_of(stamps(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False),
                   st.none(), st.binary(max_size=4), st.text(max_size=12))


@pytest.fixture(scope="module")
def db():
    conn = sqlite3.connect(":memory:")
    yield conn
    conn.close()


@settings(max_examples=400, deadline=None)
@given(value=values)
def test_the_sql_predicates_agree_with_the_classifier(db, value):
    found = formats.classify(value)
    for fmt in FORMATS + ([found] if formats.is_format(found) else []):
        valid, shaped, refused = db.execute(
            f"SELECT {formats.valid_sql(fmt, 'v')}, {formats.shape_sql(fmt, 'v')}, "
            f"(SELECT COUNT(*) FROM (SELECT ? AS v) WHERE NOT {formats.valid_sql(fmt, 'v')}) "
            "FROM (SELECT ? AS v)", (value, value)).fetchone()
        assert bool(valid) == (found == fmt), (value, fmt, found)
        assert valid in (0, 1) and shaped in (0, 1), "a predicate gave NULL, which NOT hides"
        assert refused == (not valid), "WHERE NOT must find every misfit"
        if shaped and not valid:
            assert found == "invalid", (value, fmt)


@settings(max_examples=200, deadline=None)
@given(moment=moments, fmt=st.sampled_from(FORMATS[1:]))
def test_values_of_one_format_sort_as_their_moments(moment, fmt):
    text = formats.render(moment, fmt)
    assert formats.classify(text) == fmt
    later = formats.render(moment + timedelta(days=1), fmt) if moment.year < 9999 else text
    assert later >= text
    again = formats.parse(text, fmt)
    assert formats.render(again, fmt) == text


@settings(max_examples=200, deadline=None)
@given(moment=moments, fmt=st.sampled_from(FORMATS[1:]),
       lookback=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3000)))
def test_a_lookback_bound_is_never_above_what_it_should_read(moment, fmt, lookback):
    stored = formats.render(moment, fmt)
    bound = lower_bound(Watermark(stored, fmt), lookback)
    assert formats.classify(bound) == fmt and bound <= stored
    wanted, got = as_datetime(formats.parse(stored, fmt)), as_datetime(formats.parse(bound, fmt))
    if wanted - datetime.min > lookback:
        assert got <= wanted - lookback


def as_datetime(moment):
    if isinstance(moment, datetime):
        return moment.replace(tzinfo=None)
    return datetime.combine(moment, datetime.min.time())


def test_the_future_limit_is_tomorrow_in_the_values_own_zone():
    clock = datetime(2024, 10, 5, 23, 30, tzinfo=UTC)
    assert formats.future_limit("YYYY-MM-DD hh:mm:ss", clock=clock) == "2024-10-06 23:30:00"
    assert formats.future_limit("YYYY-MM-DDThh:mm+02:00", clock=clock) == "2024-10-07T01:30+02:00"
    assert formats.future_limit("YYYY-MM-DD", clock=clock) == "2024-10-06"
    assert formats.future_limit("integer", clock=clock) is None

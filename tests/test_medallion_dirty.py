"""The dirty-data generator: deterministic, and each knob produces its kind of dirt."""

import dataclasses
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_etl.medallion.dirty import BAD_DATES, CLEAN, ORPHAN_ID_BASE, Dirt, DirtySource
from course_etl.medallion.entities import CUSTOMERS, Field, MedallionInputError
from course_etl.medallion.silver import parse_timestamp


def batches(seed, dirt, n=3, size=40):
    source = DirtySource(seed)
    return [source.next_batch(size, dirt) for _ in range(n)]


def test_same_seed_same_batches_other_seed_other_batches():
    first, again = batches(5, Dirt(whitespace=0.3, versions=0.3)), batches(5, Dirt(
        whitespace=0.3, versions=0.3))
    for a, b in zip(first, again, strict=True):
        assert a.customers.equals(b.customers) and a.orders.equals(b.orders)
    other = batches(6, Dirt(whitespace=0.3, versions=0.3))
    assert not first[0].customers.equals(other[0].customers)


def test_clean_batches_are_clean_text_with_new_ids_in_iso_format():
    source = DirtySource(1)
    one, two = source.next_batch(10, CLEAN), source.next_batch(10, CLEAN)
    assert list(one.customers["id"]) == [str(i) for i in range(1, 11)]
    assert list(two.customers["id"]) == [str(i) for i in range(11, 21)]
    sent = one.customers[list(CUSTOMERS.required_columns)]
    assert all(isinstance(v, str) for v in sent.to_numpy().ravel())
    assert one.customers.drop(columns=sent.columns).isna().all().all(), "optional: not sent"
    assert all(v == " ".join(v.split()) for v in one.customers["city"])
    assert set(one.customers["updated_at"].str[:10]) == {"2024-10-01"}
    assert set(two.customers["updated_at"].str[:10]) == {"2024-10-02"}
    assert not any(int(c) >= ORPHAN_ID_BASE for c in one.orders["customer_id"])
    assert len(one.orders) == 10


@pytest.mark.parametrize("knob", ["whitespace", "casing", "nulls", "duplicates", "versions",
                                  "bad_dates", "mixed_formats", "orphans"])
def test_each_knob_makes_its_dirt_and_only_when_turned_up(knob):
    def dirt_found(batch_list):
        customers = [b.customers for b in batch_list]
        orders = [b.orders for b in batch_list]
        sent = list(CUSTOMERS.required_columns)  # optional columns: never generated
        rows = [r for c in customers for r in c[sent].itertuples(index=False)]
        order_rows = [r for o in orders for r in o.itertuples(index=False)]
        return {
            "whitespace": sum(r.city is not None and r.city != r.city.strip() for r in rows),
            "casing": sum(r.city is not None and r.city.strip() not in (
                r.city.strip().title(),) for r in rows),
            "nulls": sum(v in (None, "") for r in rows for v in r),
            "duplicates": sum(c.duplicated().sum() for c in customers),
            "versions": sum(c["id"].nunique() < len(c.drop_duplicates()) for c in customers)
            + sum(len(set(customers[0]["id"]) & set(c["id"])) for c in customers[1:]),
            "bad_dates": sum(r.updated_at in BAD_DATES for r in rows),
            "mixed_formats": sum(bool(r.updated_at) and r.updated_at not in BAD_DATES
                                 and parse_timestamp(r.updated_at).replace("T", " ")[:19]
                                 != r.updated_at for r in rows),
            "orphans": sum(bool(r.customer_id) and int(r.customer_id) >= ORPHAN_ID_BASE
                           for r in order_rows),
        }[knob]

    assert dirt_found(batches(3, CLEAN)) == 0
    assert dirt_found(batches(3, Dirt(**{knob: 0.5}))) > 0


def test_knobs_must_be_shares_and_size_positive():
    with pytest.raises(MedallionInputError, match="casing=1.5 is not a share"):
        Dirt(casing=1.5)
    with pytest.raises(MedallionInputError, match="batch size 0 must be a positive integer"):
        DirtySource().next_batch(0)


KNOBS = [knob.name for knob in dataclasses.fields(Dirt)]


@settings(max_examples=40, deadline=None)
@given(knob=st.sampled_from(KNOBS), value=st.one_of(
    st.floats(allow_nan=False).filter(lambda v: not 0 <= v <= 1),
    st.integers().filter(lambda v: not 0 <= v <= 1)),
    size=st.integers(max_value=0))
def test_a_knob_out_of_range_and_a_size_below_one_carry_the_knob_and_the_value(knob, value,
                                                                                 size):
    with pytest.raises(MedallionInputError) as refused:
        Dirt(**{knob: value})
    assert (refused.value.knob, refused.value.value) == (knob, value)
    with pytest.raises(MedallionInputError) as refused:
        DirtySource().next_batch(size)
    assert refused.value.value == size


@settings(max_examples=20, deadline=None)
@given(names=st.lists(st.from_regex(r"[a-z][a-z_]{0,10}", fullmatch=True).filter(
    lambda name: name not in CUSTOMERS.raw_columns), min_size=1, max_size=3, unique=True))
def test_required_columns_the_generator_cannot_fill_are_named(names):
    wider = dataclasses.replace(CUSTOMERS, fields=(*CUSTOMERS.fields,
                                                   *(Field(n, "text") for n in names)))
    with mock.patch("course_etl.medallion.dirty.CUSTOMERS", wider), \
            pytest.raises(MedallionInputError) as refused:
        DirtySource().next_batch(3)
    assert (refused.value.missing, refused.value.value, refused.value.entity) == (
        names, names, "customers")

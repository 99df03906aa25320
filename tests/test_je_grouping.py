"""Grouping by several keys on the streaming engine gives exactly the plain group-by's groups; a packed key is
shared by two rows only when all their keys are."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from auditray.je import grouping
from auditray.je.population import account_lookup


def _sorted(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    return frame.sort(keys, nulls_last=True)


@pytest.fixture
def entries() -> pl.DataFrame:
    return pl.DataFrame({
        "entity_id": ["US01", "US01", "DE01", "US01", None, "DE01", "US01"],
        "entered_by": ["ann", "ann", "ann", "bob", "ann", None, "ann"],
        "effective_date": [date(2025, 1, 2), date(2025, 1, 2), date(2025, 1, 2), date(2024, 12, 31), None,
                           date(2025, 1, 2), date(2025, 1, 3)],
        "debit_cents": [-500, -500, 10**15, 0, 7, 7, -500],
        "journal_id": ["1", "2", "3", "4", "5", "6", "7"],
    })


def test_groups_equal_the_plain_group_by_with_texts_dates_negatives_and_nulls(entries: pl.DataFrame) -> None:
    keys = ["entity_id", "entered_by", "effective_date", "debit_cents"]
    aggs = (pl.len().alias("n"), pl.col("journal_id"))
    grouped = grouping.group_by(entries, keys, *aggs)
    plain = entries.group_by(keys).agg(*aggs)
    assert grouped.schema == plain.schema
    assert _sorted(grouped, keys).equals(_sorted(plain, keys))
    assert grouped.height == 6  # journals 1 and 2 are the only pair sharing every key


def test_keys_that_do_not_fit_in_63_bits_have_no_packed_key_and_still_group() -> None:
    wide = pl.DataFrame({"a": [-(2**62), 2**62, 5], "b": [1, 1, 2], "c": ["x", "x", "y"]})
    assert grouping.packed_key(wide, ["a", "b", "c"]) is None
    result = grouping.group_by(wide, ["a", "b", "c"], pl.len().alias("n"))
    assert _sorted(result, ["a"]).equals(_sorted(wide.group_by("a", "b", "c").agg(pl.len().alias("n")), ["a"]))


def test_two_rows_share_a_packed_key_only_when_all_their_keys_are_equal(entries: pl.DataFrame) -> None:
    keys = ["entity_id", "entered_by", "effective_date", "debit_cents"]
    key = grouping.packed_key(entries, keys)
    assert key is not None
    assert key.n_unique() == entries.select(pl.struct(keys)).n_unique()


def _accounts() -> pl.DataFrame:
    return pl.DataFrame({"entity_id": ["US01", "US01", "DE01"], "gl_account_number": ["1000", "4000", "1000"],
                         "account_code": [0, 1, 0], "is_suspense": [False, True, False]})


def _lines() -> pl.LazyFrame:
    return pl.LazyFrame({"entity_id": ["DE01", "US01", "US01", "US01", None],
                         "gl_account_number": ["1000", "4000", "9999", None, "1000"], "amount": [1, 2, 3, 4, 5]})


@pytest.mark.parametrize("key", [None, lambda: pl.lit(7, dtype=pl.UInt64)], ids=["hashed", "every-hash-equal"])
def test_lines_meet_their_account_as_a_left_join_would(key) -> None:
    lookup = account_lookup(_accounts(), key) if key else account_lookup(_accounts())
    found = lookup(_lines()).collect()
    expected = _lines().join(_accounts().lazy(), on=["entity_id", "gl_account_number"], how="left",
                             maintain_order="left").collect()
    assert found.sort("amount").equals(expected.sort("amount"))
    assert found.sort("amount")["account_code"].to_list()[:3] == [0, 1, None]

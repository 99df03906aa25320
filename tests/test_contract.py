"""The data contract: canonical schemas, exact money, one documented place."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from auditray import contract
from auditray.contract.docs import render_markdown
from auditray.contract.money import MONEY_DTYPE, cents_to_money, money_sum, money_to_cents


def test_ten_million_amounts_sum_to_the_cent_with_no_float_drift() -> None:
    rng = np.random.default_rng(2024)
    cents = rng.integers(-10**11, 10**11, 10_000_000)
    amounts = pl.DataFrame({"cents": cents}).select(amount=cents_to_money(pl.col("cents")))
    assert amounts.schema["amount"] == MONEY_DTYPE
    exact_total = Decimal(int(cents.sum())) / 100
    assert amounts.select(money_sum(pl.col("amount"))).item() == exact_total
    # The same sum in floats drifts: the reason money is never a float here.
    float_total = amounts.select(pl.col("amount").cast(pl.Float64).sum()).item()
    assert Decimal(repr(float_total)).quantize(Decimal("0.01")) != exact_total or float_total != float(exact_total)
    # Partial sums in any grouping add up to the same exact total (what the Ray engine relies on).
    by_chunk = sum(chunk.select(money_sum(pl.col("amount"))).item() for chunk in amounts.iter_slices(999_983))
    assert by_chunk == exact_total


def test_cents_and_money_round_trip_exactly() -> None:
    cents = pl.Series("c", [0, 1, -1, 12345, 999_999_999_999_999_99, -10])
    money = pl.select(cents_to_money(pl.lit(cents))).to_series()
    assert money.to_list()[:4] == [Decimal("0.00"), Decimal("0.01"), Decimal("-0.01"), Decimal("123.45")]
    assert pl.select(money_to_cents(pl.lit(money))).to_series().to_list() == cents.to_list()


@pytest.mark.parametrize("kind", sorted(contract.KINDS))
def test_each_schema_carries_its_kind_and_version_and_money_is_decimal(kind: str) -> None:
    c = contract.contract_for(kind)
    schema = c.schema
    assert schema.metadata[b"auditray.schema_version"].decode() == contract.SCHEMA_VERSION
    assert schema.metadata[b"auditray.kind"].decode() == kind
    assert set(c.key) <= set(c.required)
    assert len(set(c.names)) == len(c.names)
    for f in c.fields:
        if f.name == "amount" or f.name.endswith("_balance") and f.name != "normal_balance":
            assert schema.field(f.name).type == contract.MONEY
        assert schema.field(f.name).nullable == (not f.required)


def test_gl_detail_follows_the_audit_data_standard_names() -> None:
    ads = {f.ads_name for f in contract.GL_DETAIL.fields}
    assert {"Journal_ID", "Journal_ID_Line_Number", "Effective_Date", "Entry_Date", "GL_Account_Number",
            "Amount", "Business_Unit_Code", "Entered_By", "Approved_By", "Source"} <= ads
    assert contract.GL_DETAIL.schema.field("amount").type == pa.decimal128(18, 2)


def test_unknown_kind_gets_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown dataset kind 'sales'"):
        contract.contract_for("sales")


def test_the_contract_document_is_generated_from_the_code() -> None:
    doc = Path(contract.__file__).with_name("CONTRACT.md").read_text()
    assert doc == render_markdown(), "CONTRACT.md is stale: regenerate it with `auditray contract --markdown`"

"""Before relying on a TB: it balances to the cent, and the ledger rolls it forward account by account."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl
from auditray.tb.checks import latest_periods, reconcile_to_gl, trial_balance_totals

from tests.tb_helpers import tb_rows

TB = [
    ("1000", "Cash", "150.00", "100.00"),
    ("1100", "Accounts receivable", "80.00", "50.00"),
    ("2000", "Accounts payable", "-60.00", "-40.00"),
    ("3000", "Common stock", "-110.00", "-110.00"),
    ("4000", "Sales", "-200.00", "0.00"),
    ("5000", "Cost of sales", "140.00", "0.00"),
]


def _gl(lines: list[tuple[str, str, str]]) -> pl.DataFrame:
    """GL lines (journal, account, amount) of entity E1."""
    return pl.DataFrame({
        "entity_id": ["E1"] * len(lines),
        "journal_id": [j for j, _, _ in lines],
        "line_number": list(range(1, len(lines) + 1)),
        "effective_date": [date(2025, 6, 30)] * len(lines),
        "gl_account_number": [a for _, a, _ in lines],
        "amount": [Decimal(x) for _, _, x in lines],
    }, schema_overrides={"amount": pl.Decimal(18, 2), "line_number": pl.Int32})


GL = [
    ("J1", "1000", "200.00"), ("J1", "4000", "-200.00"),      # cash sale
    ("J2", "5000", "140.00"), ("J2", "2000", "-140.00"),      # purchases on credit
    ("J3", "2000", "120.00"), ("J3", "1000", "-120.00"),      # paid suppliers
    ("J4", "1100", "30.00"), ("J4", "1000", "-30.00"),        # refund paid to a customer, recharged
]


def test_a_balanced_trial_balance_sums_to_exactly_zero() -> None:
    totals = trial_balance_totals(tb_rows(TB)).row(0, named=True)
    assert totals["balanced"] is True
    assert totals["closing_net"] == Decimal("0.00") and totals["opening_net"] == Decimal("0.00")
    assert totals["debits"] == totals["credits"] == Decimal("370.00")


def test_one_cent_out_is_unbalanced_and_says_by_how_much() -> None:
    rows = [*TB[:-1], ("5000", "Cost of sales", "140.01", "0.00")]
    totals = trial_balance_totals(tb_rows(rows)).row(0, named=True)
    assert totals["balanced"] is False
    assert totals["closing_net"] == Decimal("0.01")


def test_a_complete_ledger_rolls_every_account_forward() -> None:
    reconciliation = reconcile_to_gl(tb_rows(TB), _gl(GL))
    assert reconciliation.reconciled
    statuses = dict(zip(reconciliation.accounts["gl_account_number"], reconciliation.accounts["status"], strict=True))
    assert statuses == {"1000": "agrees", "1100": "agrees", "2000": "agrees", "3000": "no_activity",
                        "4000": "agrees", "5000": "agrees"}
    assert reconciliation.exceptions.is_empty()


def test_differences_and_one_sided_accounts_are_listed() -> None:
    gl = [line for line in GL if line[0] != "J4"] + [("J5", "9999", "25.00"), ("J5", "1000", "-25.00")]
    reconciliation = reconcile_to_gl(tb_rows(TB), _gl(gl))
    assert not reconciliation.reconciled
    exceptions = {row["gl_account_number"]: (row["status"], row["difference"])
                  for row in reconciliation.exceptions.iter_rows(named=True)}
    assert exceptions == {
        "1000": ("difference", Decimal("-5.00")),             # 150 - (100 + 200 - 120 - 25)
        "1100": ("tb_movement_without_gl", Decimal("30.00")),  # moved 30, no GL line
        "9999": ("in_gl_not_in_tb", Decimal("-25.00")),        # GL lines on an account the TB lacks
    }
    assert reconciliation.gl_not_in_tb["gl_account_number"].to_list() == ["9999"]
    assert set(reconciliation.tb_not_in_gl["gl_account_number"].to_list()) == {"1100", "3000"}
    summary = reconciliation.summary()
    assert summary["exceptions"] == 3 and summary["absolute_difference"] == "60.00"


def test_only_each_years_last_period_is_rolled_forward() -> None:
    tb = pl.concat([tb_rows(TB, period=11), tb_rows(TB, period=12)])
    latest = latest_periods(tb)
    assert latest["period"].unique().to_list() == [12]
    assert reconcile_to_gl(tb, _gl(GL)).reconciled


def test_the_generated_engagement_reconciles_on_the_local_engine(tmp_path) -> None:
    from auditray.generate import GeneratorConfig, generate_engagement

    generated = generate_engagement(GeneratorConfig(seed=9, n_lines=12_000, n_entities=2), tmp_path / "e")
    tb = pl.read_parquet(generated.trial_balance)
    reconciliation = reconcile_to_gl(tb, generated.out_dir / "gl_detail")
    assert reconciliation.reconciled, reconciliation.exceptions
    tampered = tb.with_columns(closing_balance=pl.when(pl.col("gl_account_number") == "1000")
                               .then(pl.col("closing_balance") + Decimal("0.01")).otherwise(pl.col("closing_balance")))
    broken = reconcile_to_gl(tampered, generated.out_dir / "gl_detail")
    assert set(broken.exceptions["gl_account_number"].to_list()) == {"1000"}
    assert not broken.totals["balanced"].all()

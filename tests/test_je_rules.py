"""The battery on hand-built ledgers: each characteristic trips its test, and a clean ledger trips none.

A clean population of 600 ordinary manual journals (four posters, two accounts, business days and hours,
described, balanced, numbered without gaps); then one anomaly at a time, the way AS 2401 .61 and the CAQ
practice aid describe it. Population-relative tests (rare pairs, seldom accounts, unusual users, period
end, approval limits) are checked here because the synthetic generator's clean ledger still has natural
hits for them.
"""

from __future__ import annotations

import math
from datetime import date, time, timedelta
from decimal import Decimal

import polars as pl
import pytest
from auditray.contract import GL_DETAIL
from auditray.je.analyze import analyze
from auditray.je.catalogue import TEST_IDS
from auditray.je.facts import EntityFacts, nicest_limit
from auditray.je.scoring import risk_score
from auditray.je.settings import JETestSettings

ENTITY = "E1"
USERS = ("ANNA", "BEN", "CARLA", "DAVID")
NAMES = {"6000": "Office expense", "2000": "Accrued liabilities", "1000": "Cash at bank - operating",
         "6999": "Sundry expense", "1999": "Suspense account", "6100": "Marketing expense",
         "2100": "Deferred income tax", "4000": "Product sales", "2500": "Provisions"}
# Stated facts, so that no threshold falls back to a share of this small population.
SETTINGS = {"performance_materiality": "1000000.00", "ml_enabled": False, "disabled_tests": ["benford_outlier"]}
_GOLDEN = (math.sqrt(5) - 1) / 2


def _workdays(start: date, end: date) -> list[date]:
    """Business days that are neither holidays nor in the last three days of a month (no period end)."""
    from auditray.generate import us_federal_holidays

    holidays = set(us_federal_holidays(start.year))
    days, day = [], start
    while day <= end:
        following = day + timedelta(days=3)
        if day.weekday() < 5 and day not in holidays and following.month == day.month:
            days.append(day)
        day += timedelta(days=1)
    return days


def journal(number: int, day: date, lines: list[tuple[str, str]], *, user: str = "ANNA", keyed: date | None = None,
            at: time = time(10, 30), header: str | None = "Monthly accrual", manual: bool = True,
            approver: str | None = None, line_text: bool = True) -> list[dict]:
    return [
        {"entity_id": ENTITY, "journal_id": f"JE{number:06d}", "line_number": i + 1, "fiscal_year": day.year,
         "period": day.month, "effective_date": day, "entry_date": keyed or day, "entry_time": at,
         "gl_account_number": account, "amount": Decimal(amount), "je_header_description": header,
         "je_line_description": NAMES.get(account) if line_text else None, "manual_entry": manual,
         "entered_by": user, "approved_by": approver}
        for i, (account, amount) in enumerate(lines)
    ]


def clean_journals(n: int = 600) -> list[dict]:
    days = _workdays(date(2025, 1, 2), date(2025, 12, 24))
    rows: list[dict] = []
    for i in range(n):
        # Amounts spread evenly over 120-880 (never round, no two alike, nowhere near an approval limit).
        cents = int(12_000 + 76_000 * ((i * _GOLDEN) % 1)) + 1
        amount = f"{cents // 100}.{cents % 100:02d}"
        rows += journal(i + 1, days[i % len(days)], [("6000", amount), ("2000", f"-{amount}")],
                        user=USERS[i % len(USERS)], at=time(9 + i % 8, (i * 7) % 60))
    return rows


def frame(rows: list[dict]) -> pl.DataFrame:
    schema = pl.from_arrow(GL_DETAIL.schema.empty_table()).schema
    return pl.DataFrame(rows, schema={k: v for k, v in schema.items() if k in rows[0]})


def run(rows: list[dict], **overrides: object):
    settings = JETestSettings.model_validate({**SETTINGS, **overrides})
    return analyze(frame(rows), settings=settings)


def tripped(analysis, journal_id: str) -> list[str]:
    row = analysis.entries.filter(pl.col("journal_id") == journal_id)
    assert row.height == 1, journal_id
    return row["tests"].item().to_list()


@pytest.fixture(scope="module")
def clean() -> list[dict]:
    return clean_journals()


def test_a_clean_ledger_trips_no_test(clean: list[dict]) -> None:
    analysis = run(clean)
    hits = analysis.entries.filter(pl.col("tests").list.len() > 0)
    assert hits.height == 0, hits.select("journal_id", "tests", "explanations").head(5).to_dicts()
    assert analysis.entries["risk_score"].max() == 0.0
    assert set(analysis.entries["risk_band"]) == {"low"}


def _replace(rows: list[dict], number: int, new: list[dict]) -> list[dict]:
    key = f"JE{number:06d}"
    return [r for r in rows if r["journal_id"] != key] + new


def _day(rows: list[dict], number: int) -> date:
    return next(r["effective_date"] for r in rows if r["journal_id"] == f"JE{number:06d}")


MUTATIONS = {
    "unbalanced_entry": lambda rows: _replace(rows, 100, journal(100, _day(rows, 100),
                                                                 [("6000", "512.30"), ("2000", "-521.30")])),
    "sequence_gap": lambda rows: [r for r in rows if r["journal_id"] not in ("JE000099", "JE000100")],
    "duplicate_entry": lambda rows: rows + [dict(r, journal_id="JE000601", entry_time=time(15, 5))
                                            for r in rows if r["journal_id"] == "JE000100"],
    "high_value": lambda rows: _replace(rows, 100, journal(100, _day(rows, 100),
                                                           [("6000", "1250000.17"), ("2000", "-1250000.17")])),
    "round_amount": lambda rows: _replace(rows, 100, journal(100, _day(rows, 100),
                                                             [("6000", "5000.00"), ("2000", "-5000.00")])),
    "recurring_ending": lambda rows: rows + [
        r for k, amount in enumerate(("1999.00", "3999.00", "7999.00"))
        for r in journal(601 + k, date(2025, 3, 4 + k), [("6000", amount), ("2000", f"-{amount}")], user="BEN")],
    "unusual_user": lambda rows: _replace(rows, 100, journal(100, _day(rows, 100),
                                                             [("6000", "345.67"), ("2000", "-345.67")],
                                                             user="INTRUDER")),
    "manual_to_sensitive_account": lambda rows: _replace(rows, 100, journal(
        100, _day(rows, 100), [("1000", "345.67"), ("2000", "-345.67")])),
    "weekend_posting": lambda rows: _replace(rows, 100, journal(100, date(2025, 3, 8),
                                                                [("6000", "345.67"), ("2000", "-345.67")])),
    "holiday_posting": lambda rows: _replace(rows, 100, journal(100, date(2025, 7, 4),
                                                                [("6000", "345.67"), ("2000", "-345.67")])),
    "after_hours": lambda rows: _replace(rows, 100, journal(100, _day(rows, 100),
                                                            [("6000", "345.67"), ("2000", "-345.67")],
                                                            at=time(22, 41))),
    "period_end": lambda rows: _replace(rows, 100, journal(100, date(2025, 3, 31),
                                                           [("6000", "312345.67"), ("2000", "-312345.67")])),
    "post_closing": lambda rows: _replace(rows, 100, journal(100, date(2025, 12, 15),
                                                             [("6000", "345.67"), ("2000", "-345.67")],
                                                             keyed=date(2026, 2, 16))),
    "backdated": lambda rows: _replace(rows, 100, journal(100, date(2025, 2, 3),
                                                          [("6000", "345.67"), ("2000", "-345.67")],
                                                          keyed=date(2025, 5, 20))),
    "missing_description": lambda rows: _replace(rows, 100, journal(
        100, _day(rows, 100), [("6000", "345.67"), ("2000", "-345.67")], header=None, line_text=False)),
    "suspicious_keyword": lambda rows: _replace(rows, 100, journal(
        100, _day(rows, 100), [("6000", "345.67"), ("2000", "-345.67")], header="Plug to balance per CFO")),
    "seldom_used_account": lambda rows: _replace(rows, 100, journal(100, _day(rows, 100),
                                                                    [("6999", "345.67"), ("2000", "-345.67")])),
    "rare_account_pair": lambda rows: _replace(rows, 100, journal(100, _day(rows, 100),
                                                                  [("6000", "345.67"), ("1999", "-345.67")])),
    "below_approval_threshold": lambda rows: rows + [
        r for k, (amount, approver) in enumerate((("12345.67", "MGR"), ("15432.10", "MGR"), ("9812.34", None)))
        for r in journal(601 + k, date(2025, 4, 8 + k), [("6000", amount), ("2000", f"-{amount}")], user="CARLA",
                         approver=approver)],
    "split_entry": lambda rows: rows + [
        r for k, amount in enumerate(("8123.45", "8765.43", "9012.34"))
        for r in journal(601 + k, date(2025, 5, 13), [("6000", amount), ("2000", f"-{amount}")], user="DAVID",
                         at=time(10, 10 + k))],
    "suspense_account": lambda rows: _replace(rows, 100, journal(100, _day(rows, 100),
                                                                 [("1999", "345.67"), ("2000", "-345.67")])),
}
# The journal each mutation must flag.
FLAGGED = {"sequence_gap": "JE000101", "duplicate_entry": "JE000601", "recurring_ending": "JE000602",
           "below_approval_threshold": "JE000603", "split_entry": "JE000602"}


@pytest.mark.parametrize("test_id", sorted(MUTATIONS))
def test_each_characteristic_trips_its_test(clean: list[dict], test_id: str) -> None:
    analysis = run(MUTATIONS[test_id](clean))
    assert test_id in tripped(analysis, FLAGGED.get(test_id, "JE000100"))
    entry = analysis.entries.filter(pl.col("journal_id") == FLAGGED.get(test_id, "JE000100")).row(0, named=True)
    position = entry["tests"].index(test_id)
    assert entry["explanations"][position], "every tripped test says why"
    assert entry["risk_score"] > 0


def test_every_rule_of_the_catalogue_is_exercised_here_or_on_generated_ledgers() -> None:
    assert set(MUTATIONS) | {"benford_outlier", "ml_outlier"} == set(TEST_IDS)


def test_a_rarely_used_pair_of_related_accounts_counts_less_than_unrelated_ones(clean: list[dict]) -> None:
    rows = MUTATIONS["rare_account_pair"](clean)
    # The same unique pair again, but between groups the entity combines all the time (60xx / 20xx).
    rows = _replace(rows, 200, journal(200, _day(rows, 200), [("6050", "345.67"), ("2050", "-345.67")]))
    rows += [r for k in range(30) for r in journal(700 + k, date(2025, 6, 2 + k % 20),
                                                  [("6060", f"{200 + k}.11"), ("2050", f"-{200 + k}.11")])]
    analysis = run(rows, disabled_tests=["benford_outlier", "seldom_used_account"])
    strengths = {row["journal_id"]: dict(zip(row["tests"], row["test_scores"], strict=True)).get("rare_account_pair")
                 for row in analysis.entries.filter(pl.col("journal_id").is_in(["JE000100", "JE000200"]))
                 .iter_rows(named=True)}
    assert strengths["JE000100"] == 1.0 and 0 < strengths["JE000200"] < 1.0


def test_approval_limits_are_read_from_the_approvals_the_ledger_records(clean: list[dict]) -> None:
    analysis = run(MUTATIONS["below_approval_threshold"](clean))
    limit = analysis.population["entities"][ENTITY]["approval_limits"]["CARLA"]
    # All posters' approvals together fit one policy: the limit is read from them all.
    assert limit["limit"] == "10,000.00" and "read from the approvals of all" in limit["basis"]


@pytest.mark.parametrize(("low", "high", "limit"), [(990_000, 1_021_300, 1_000_000), (230_000, 260_000, 250_000),
                                                    (230_000, 400_000, 300_000), (4_990_000, 5_000_001, 5_000_000)])
def test_the_roundest_amount_between_approved_and_unapproved_is_the_limit(low: int, high: int, limit: int) -> None:
    assert nicest_limit(low, high) == limit


@pytest.mark.parametrize(("field", "test_id"), [("entry_time", "after_hours"), ("entry_date", "post_closing"),
                                                ("entry_date", "backdated"), ("entered_by", "unusual_user"),
                                                ("entered_by", "split_entry")])
def test_a_missing_field_makes_its_test_not_run_with_a_reason(clean: list[dict], field: str, test_id: str) -> None:
    rows = [{k: v for k, v in r.items() if k != field} for r in MUTATIONS[test_id](clean)]
    analysis = run(rows)
    assert test_id in analysis.not_run and field in analysis.not_run[test_id]
    assert test_id in analysis.population["tests_not_run"]
    assert test_id not in analysis.population["tests_run"]
    assert not analysis.entries["tests"].list.contains(test_id).any()


def test_a_test_disabled_in_the_settings_is_reported_not_run(clean: list[dict]) -> None:
    analysis = run(MUTATIONS["round_amount"](clean), disabled_tests=["round_amount", "benford_outlier"])
    assert analysis.not_run["round_amount"] == "disabled in the settings"
    assert "round_amount" not in tripped(analysis, "JE000100")


def test_the_risk_score_combines_independent_signs() -> None:
    weights = {"a": 0.5, "b": 0.5, "c": 0.9}
    scores = pl.DataFrame({"s_a": [0.0, 1.0, 1.0, 1.0], "s_b": [0.0, 0.0, 1.0, 1.0], "s_c": [0.0, 0.0, 0.0, 1.0]})
    risk = scores.select(risk_score(weights)).to_series().to_list()
    assert risk == pytest.approx([0.0, 0.5, 0.75, 0.975])


def test_several_weak_signs_rank_above_one(clean: list[dict]) -> None:
    rows = _replace(clean, 100, journal(100, date(2025, 3, 8), [("6000", "5000.00"), ("2000", "-5000.00")],
                                        at=time(22, 15)))
    rows = _replace(rows, 200, journal(200, _day(rows, 200), [("6000", "5000.00"), ("2000", "-5000.00")]))
    analysis = run(rows)
    many, one = (analysis.entries.filter(pl.col("journal_id") == j).row(0, named=True) for j in ("JE000100", "JE000200"))
    assert set(many["tests"]) >= {"round_amount", "weekend_posting", "after_hours"} and one["tests"] == ["round_amount"]
    assert many["risk_score"] > one["risk_score"] and many["risk_rank"] < one["risk_rank"]
    assert many["risk_band"] == "high"


def test_amounts_stay_exact_decimals(clean: list[dict]) -> None:
    analysis = run(MUTATIONS["high_value"](clean))
    entry = analysis.entries.filter(pl.col("journal_id") == "JE000100").row(0, named=True)
    assert entry["amount"] == Decimal("1250000.17")
    assert isinstance(analysis.entries.schema["amount"], pl.Decimal)


def test_a_ledger_without_required_fields_is_refused() -> None:
    with pytest.raises(ValueError, match="gl_account_number"):
        analyze(frame(clean_journals(10)).drop("gl_account_number"))


def test_a_sign_most_entries_show_weighs_less_and_is_still_listed(clean: list[dict]) -> None:
    from auditray.je.catalogue import TESTS

    rows = list(clean)
    silent = {f"JE{n:06d}" for n in range(1, 601, 5)}  # every fifth entry: a ledger whose ERP writes no text
    rows = [{**r, "je_header_description": None, "je_line_description": None} if r["journal_id"] in silent else r
            for r in rows]
    rows = _replace(rows, 102, journal(102, _day(rows, 102), [("6000", "5000.00"), ("2000", "-5000.00")]))
    analysis = run(rows)
    share = len(silent) / 600
    factor = math.sqrt(0.02 / share)
    quiet = analysis.entries.filter(pl.col("journal_id") == "JE000001").row(0, named=True)
    assert quiet["tests"] == ["missing_description"]
    assert quiet["risk_score"] == pytest.approx(TESTS["missing_description"].weight * factor)
    rare = analysis.entries.filter(pl.col("journal_id") == "JE000102").row(0, named=True)
    assert rare["tests"] == ["round_amount"] and rare["risk_score"] == pytest.approx(TESTS["round_amount"].weight)
    common = analysis.population["entities"][ENTITY]["common_tests"]
    assert common == {"missing_description": {"entries": 120, "share": pytest.approx(share),
                                              "weight_factor": pytest.approx(factor)}}
    unadjusted = run(rows, common_test_share=0)
    entry = unadjusted.entries.filter(pl.col("journal_id") == "JE000001").row(0, named=True)
    assert entry["risk_score"] == pytest.approx(TESTS["missing_description"].weight)
    assert unadjusted.population["entities"][ENTITY]["common_tests"] == {}


def _every_key_alike(columns) -> pl.Expr:
    return pl.col(f"_h_{columns[0]}") * 0 + 7


def _entity_only(columns) -> pl.Expr:
    return pl.col("_h_entity_id")


@pytest.mark.parametrize("collide", [_every_key_alike, _entity_only], ids=["one hash for all", "entity hash"])
def test_context_joins_stay_exact_when_key_hashes_collide(clean: list[dict], monkeypatch: pytest.MonkeyPatch,
                                                          collide) -> None:
    """Entries meet their context (users, pairs, flags, calendar) by a 64-bit hash of the keys; a hash shared
    by two keys must never hand an entry another key's figures."""
    from auditray.je import rules

    rows = MUTATIONS["split_entry"](MUTATIONS["duplicate_entry"](MUTATIONS["sequence_gap"](
        MUTATIONS["recurring_ending"](MUTATIONS["unusual_user"](clean)))))
    expected = run(rows).entries
    monkeypatch.setattr(rules, "key_hash", collide)
    assert run(rows).entries.equals(expected)


def test_a_hash_that_met_another_key_is_caught_on_the_matched_rows() -> None:
    from auditray.je.rules import _met_other_keys

    keys = pl.DataFrame({"entity_id": ["E1", "E1", "E1"], "journal_id": ["J1", "J2", "J3"]})
    own = pl.DataFrame({"_right_entity_id": ["E1", None, None], "_right_journal_id": ["J1", None, None]})
    other = pl.DataFrame({"_right_entity_id": ["E1", None, "E1"], "_right_journal_id": ["J1", None, "J1"]})
    assert not _met_other_keys(keys, own, ["entity_id", "journal_id"])
    assert _met_other_keys(keys, other, ["entity_id", "journal_id"])


def test_entries_rank_by_risk_then_model_score_then_a_fixed_tie_break(clean: list[dict],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from auditray.je import analyze as analysis_module

    entries = run(MUTATIONS["split_entry"](MUTATIONS["unusual_user"](clean))).entries
    judged = entries.drop("risk_rank").sample(fraction=1.0, shuffle=True, seed=3)
    ranked = analysis_module.rank(judged)
    assert ranked["risk_rank"].to_list() == list(range(1, entries.height + 1))
    assert ranked["risk_score"].is_sorted(descending=True)
    quiet = ranked.filter(pl.col("risk_score") == 0)
    assert quiet.select(analysis_module.tie_break())["entity_id"].is_sorted(), "ties in hash order"
    assert ranked.equals(analysis_module.rank(judged.reverse())), "the input order does not matter"
    # Should two tied entries share a hash, their text decides.
    monkeypatch.setattr(analysis_module, "tie_break", lambda: pl.col("line_count").cast(pl.UInt64) * 0)
    by_text = analysis_module.rank(judged).filter(pl.col("risk_score") == 0)
    assert by_text["journal_id"].is_sorted() and not quiet["journal_id"].is_sorted()
    # Entries with no risk are put in order without their (empty) lists; were one ever listed, it keeps them.
    monkeypatch.undo()
    odd = judged.with_columns(risk_score=pl.when(pl.col("tests").list.len() > 0).then(0.0)
                              .otherwise(pl.col("risk_score")))
    kept = analysis_module.rank(odd).filter(pl.col("tests").list.len() > 0)
    assert kept.height == entries.filter(pl.col("tests").list.len() > 0).height > 0


def test_a_sequence_gap_names_the_journal_before_it_even_when_numbers_repeat() -> None:
    from auditray.je.stats import sequence_numbers

    gaps = sequence_numbers()
    journals = pl.DataFrame({"entity_id": ["E1"] * 5 + ["E2"] * 2,
                             "journal_id": ["JE-005", "JE-001", "JE-0001", "AP-7", "AP-9", "JE-001", "JE-004"],
                             "fiscal_year": [2025] * 7, "entry_date": [date(2025, 3, d) for d in range(1, 8)]},
                            schema_overrides={"fiscal_year": pl.Int16})
    found = gaps.finish(gaps.map(journals))
    # JE-0001 and JE-001 are both number 1 of sequence "JE-": the journal id orders them, the later one is
    # the journal before JE-005. Each entity and each prefix is its own sequence.
    assert found.select("entity_id", "journal_id", "previous_journal", "missing").rows() == [
        ("E1", "AP-9", "AP-7", 1), ("E1", "JE-005", "JE-001", 3), ("E2", "JE-004", "JE-001", 2)]
    # With the days the entries either side of the hole were keyed.
    assert found.select("entry_date", "previous_entry_date").row(0) == (date(2025, 3, 5), date(2025, 3, 4))


def test_a_hole_taken_while_two_fiscal_years_were_open_trips_weakly() -> None:
    """One number range across the years: last year's close, keyed in January, took numbers between this
    year's first entries, and next year's, keyed from a few days before this year's end (a payroll run
    processed ahead) on, takes numbers between this year's late entries, however late (the CPA's adjustments
    in March). A hole there may be the other year's; a hole in June or before Christmas is not."""
    from auditray.je.analyze import _gaps_at_year_boundaries

    facts = {"E1": EntityFacts(entity_id="E1", journals=10, manual_journals=0, fiscal_year_start=date(2025, 1, 1),
                               fiscal_year_end=date(2025, 12, 31), closing_date=date(2026, 1, 30),
                               period_end_dates=[], high_value_cents=1, backdated_days=30,
                               period_end_amount_cents=1, unusual_user_max_journals=1, seldom_account_max_journals=1,
                               rare_pair_max_journals=1, rare_group_pair_max_journals=1, authorised_posters=None)}
    gaps = pl.DataFrame({"entity_id": ["E1"] * 7,
                         "journal_id": ["JE-10", "JE-50", "JE-90", "JE-99", "AP-3", "JE-80", "JE-85"],
                         "previous_journal": ["JE-8", "JE-48", "JE-88", "JE-97", "AP-1", "JE-78", "JE-83"],
                         "missing": [1] * 7,
                         "entry_date": [date(2025, 1, 14), date(2025, 6, 12), date(2026, 1, 9), date(2026, 3, 2),
                                        date(2025, 1, 14), date(2025, 12, 20), date(2025, 12, 29)],
                         "previous_entry_date": [date(2025, 1, 13), date(2025, 6, 11), date(2026, 1, 8),
                                                 date(2026, 3, 1), date(2025, 1, 13), date(2025, 12, 19),
                                                 date(2025, 12, 29)],
                         # AP numbers begin the year at 1: a range of the year's own, which no other year takes.
                         "starts_afresh": [False, False, False, False, True, False, False]})
    marked = _gaps_at_year_boundaries(gaps, facts)
    assert marked["at_year_boundary"].to_list() == [True, False, True, True, False, False, True]


def test_a_sequence_that_begins_the_year_at_the_start_of_a_range_is_the_year_s_own() -> None:
    from auditray.je.stats import sequence_numbers

    gaps = sequence_numbers()
    ids = ["2500000001", "2500000002", "2500000004", "INV-018234", "INV-018236"]
    journals = pl.DataFrame({"entity_id": ["E1"] * 5, "journal_id": ids, "fiscal_year": [2025] * 5,
                             "entry_date": [date(2025, 1, 2)] * 5}, schema_overrides={"fiscal_year": pl.Int16})
    found = gaps.finish(gaps.map(journals))
    assert found.select("journal_id", "starts_afresh").rows() == [("2500000004", True), ("INV-018236", False)]


@pytest.mark.parametrize("numbers", [[3, 1, 7, 2, 10], [1, 2**60, 5, 2**60 + 3, 9]], ids=["packed", "too-wide"])
def test_sequence_holes_from_one_integer_sort_equal_the_plain_sort(numbers: list[int]) -> None:
    from auditray.je import stats

    years = [2025, 2025, 2025, 2024, 2024]
    frame = pl.DataFrame({"entity_id": ["E1", "E1", "E1", "E1", "E1"] * 2 + ["E2"] * 5,
                          "journal_id": [f"JE{n}" for n in numbers] + [f"AP{n}" for n in numbers]
                          + [f"JE{n}" for n in numbers],
                          "sequence_year": years * 3,
                          "prefix": ["JE"] * 5 + ["AP"] * 5 + ["JE"] * 5,
                          "number": numbers * 3, "entry_date": [date(2025, 1, 1)] * 15})
    frame = stats._sequence_owners(frame)  # E1 and E2 each number from 1: their own sequences
    by_integers = stats._gaps_by_integers(frame).sort("entity_id", "journal_id")
    by_sort = stats._gaps_by_sort(frame).sort("entity_id", "journal_id")
    assert by_integers.equals(by_sort)
    assert by_integers.height == 9  # per sequence: 1 -> 3 -> 7 in 2025, 2 -> 10 in 2024 (or the wide ones)
    by_presence = stats._gaps_by_presence(frame)
    if numbers[1] == 2**60:
        assert by_presence is None  # spans of 2^60 numbers are left to the sort
    else:
        assert by_presence is not None and by_presence.sort("entity_id", "journal_id").equals(by_sort)


def test_sequence_holes_from_marked_numbers_equal_the_plain_sort_on_a_large_random_ledger() -> None:
    """Several entities, years and prefixes, numbers from 0 or from 2.5 billion, random holes and order."""
    import numpy as np
    from auditray.je import stats

    rng = np.random.default_rng(4)
    parts = []
    for entity, year, prefix, start in [("E1", 2025, "", 2_500_000_001), ("E1", 2024, "", 1),
                                        ("E2", 2025, "JE-", 0), ("E2", 2025, "AP-", 100_001)]:
        numbers = start + np.flatnonzero(rng.random(30_000) > 0.01)
        parts.append(pl.DataFrame({"entity_id": entity, "sequence_year": year, "prefix": prefix,
                                   "number": numbers, "journal_id": [f"{prefix}{n}" for n in numbers]}))
    frame = (pl.concat(parts).with_columns(sequence_year=pl.col("sequence_year").cast(pl.Int16),
                                           entry_date=pl.lit(date(2025, 1, 1)))
             .sample(fraction=1.0, shuffle=True, seed=3))
    frame = stats._sequence_owners(frame)
    by_presence = stats._gaps_by_presence(frame)
    by_sort = stats._gaps_by_sort(frame).sort("entity_id", "journal_id")
    assert by_presence is not None and by_presence.height > 1000
    assert by_presence.sort("entity_id", "journal_id").equals(by_sort)
    repeated = pl.concat([frame, frame.head(1)])
    assert stats._gaps_by_presence(repeated) is None  # a repeated number: the journal id must order the copies
    # Twelve sequences each spanning 9 x 10^17 numbers (their sum would overflow 64 bits): left to the sort.
    ends = [1, 9 * 10**17] * 12
    wide = pl.DataFrame({"entity_id": "E1", "sequence_year": pl.Series([2025] * 24, dtype=pl.Int16),
                         "prefix": [f"P{i // 2}-" for i in range(24)], "number": ends,
                         "journal_id": [f"P{i // 2}-{n}" for i, n in enumerate(ends)],
                         "entry_date": date(2025, 1, 1)}).pipe(stats._sequence_owners)
    assert stats._gaps_by_presence(wide) is None
    assert stats._gaps_by_sort(wide).height == 12


def test_a_limit_between_the_approvals_is_the_common_one_when_there_is_one() -> None:
    common = [100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000]
    assert nicest_limit(2_482_309, 3_025_182, common) == 2_500_000  # not the rounder 30,000.00
    assert nicest_limit(2_482_309, 3_025_182) == 3_000_000
    assert nicest_limit(90_000, 2_600_000, common) == 1_000_000  # several common ones: the roundest


def test_the_fiscal_year_end_is_not_moved_by_a_few_entries_dated_after_it() -> None:
    from datetime import date, timedelta

    from auditray.je.facts import _year_end

    days = [date(2024, 7, 1) + timedelta(days=d) for d in range(365)] * 10  # ten entries a day
    periods = [(d.month - 7) % 12 + 1 for d in days]
    year = pl.DataFrame({"effective_date": days + [date(2025, 7, 3)] * 2, "period": periods + [12, 12]},
                        schema_overrides={"period": pl.Int8})
    assert _year_end(year)[0] == date(2025, 6, 30)
    assert _year_end(year.drop("period"))[0] == date(2025, 6, 30)
    with_adjustments = pl.concat([year, pl.DataFrame({"effective_date": [date(2025, 6, 30)] * 3, "period": [13] * 3},
                                                     schema_overrides={"period": pl.Int8})])
    assert _year_end(with_adjustments)[0] == date(2025, 6, 30)


def test_a_holiday_counts_as_worked_only_on_a_normal_day_s_volume_of_a_ledger_big_enough_to_tell() -> None:
    from datetime import date, timedelta

    from auditray.je.facts import worked_holidays

    days = [date(2025, 9, 1) + timedelta(days=d) for d in range(60)]
    ordinary = [d for d in days if d.isoweekday() <= 5]
    columbus, labor = date(2025, 10, 13), date(2025, 9, 1)  # Columbus Day worked; Labor Day: three plants
    keyed = [d for d in ordinary if d not in (columbus, labor) for _ in range(40)] + [columbus] * 35 + [labor] * 3
    journals = pl.DataFrame({"entry_date": keyed, "effective_date": keyed})
    assert worked_holidays(journals, [labor, columbus], [1, 2, 3, 4, 5]) == [columbus]
    small = pl.DataFrame({"entry_date": ordinary * 2 + [labor] * 2, "effective_date": ordinary * 2 + [labor] * 2})
    assert worked_holidays(small, [labor], [1, 2, 3, 4, 5]) == []  # two a day: nothing to tell by


def test_the_account_name_the_lines_carry_names_the_account_before_any_memo(clean: list[dict]) -> None:
    """An export that repeats the account's name on every line (GL_Account_Name) is read by it: a memo that
    happens to say "cash" does not make an accrual account cash, and a suspense account is known as one."""
    names = {"6000": "Office expense", "2000": "Accrued liabilities", "1999": "Suspense - unreconciled"}
    rows = _replace(clean, 100, journal(100, _day(clean, 100), [("1999", "412.30"), ("6000", "-412.30")]))
    rows = [dict(r, gl_account_name=names[r["gl_account_number"]],
                 je_line_description="Cash adjustment" if r["gl_account_number"] == "2000" else
                 r["je_line_description"]) for r in rows]
    analysis = run(rows)
    accounts = analysis.accounts.select("gl_account_number", "account_name", "name_basis", "is_sensitive",
                                        "is_suspense")
    accrued = accounts.filter(pl.col("gl_account_number") == "2000").row(0, named=True)
    assert accrued["account_name"] == "Accrued liabilities" and accrued["name_basis"] == "account name on the lines"
    assert not accrued["is_sensitive"]
    assert accounts.filter(pl.col("gl_account_number") == "1999")["is_suspense"].item()
    assert "suspense_account" in tripped(analysis, "JE000100")
    assert analysis.population["field_coverage"]["gl_account_name"]["values"] == len(rows)


def test_the_evening_hours_a_team_works_as_a_matter_of_course_trip_after_hours_only_weakly() -> None:
    """A close that runs into the evening is the client's working day; a posting at 22:00 is not, nor is a
    night hour with no worked hour before it, however many entries a fraudster keys in it."""
    from auditray.je.facts import worked_hours

    def at(hour: int, count: int) -> list[tuple[time, bool]]:
        return [(time(hour, (i * 7) % 60), True) for i in range(count)]

    keyed = [*(e for hour in range(7, 19) for e in at(hour, 40)), *at(19, 15), *at(20, 4), *at(22, 3), *at(2, 30)]
    keyed += [(time(21, 0), False)] * 50  # an interface's nightly run is not people working
    journals = pl.DataFrame(keyed, schema={"entry_time": pl.Time, "manual": pl.Boolean}, orient="row")
    assert worked_hours(journals, (time(7, 0), time(19, 0))) == [19]
    # A handful of entries per office hour proves nothing.
    assert worked_hours(journals.head(12 * 5), (time(7, 0), time(19, 0))) == []


def _monthly_transfers(amounts: dict[int, str], *, user: str = "TREASURY") -> list[dict]:
    """One manual transfer from cash at bank to the payroll clearing account (2100) on the 10th of each month."""
    rows: list[dict] = []
    for month, amount in amounts.items():
        day = date(2025, month, 10)
        while day.weekday() >= 5 or day in (date(2025, 11, 10),):
            day += timedelta(days=1)
        rows += journal(800 + month, day, [("2100", amount), ("1000", f"-{amount}")], user=user,
                        header="Payroll funding transfer")
    return rows


def _strengths(analysis, journal_id: str) -> dict[str, float]:
    row = analysis.entries.filter(pl.col("journal_id") == journal_id).row(0, named=True)
    return dict(zip(row["tests"], row["test_scores"], strict=True))


def test_a_standard_entry_s_size_and_cash_account_count_weakly(clean: list[dict]) -> None:
    """AS 2401 .58 / ISA 240 A42: the monthly payroll funding one user keys to cash is a standard entry; its
    size and its account are what it always shows, and the reason says so, with the pattern to check."""
    from auditray.je.rules import STANDARD_ENTRY_STRENGTH

    amounts = {m: f"{1_500_000 + 7_919 * m}.{m:02d}" for m in range(1, 13)}
    analysis = run(clean + _monthly_transfers(amounts))
    march = _strengths(analysis, "JE000803")
    assert march["high_value"] == march["manual_to_sensitive_account"] == STANDARD_ENTRY_STRENGTH
    row = analysis.entries.filter(pl.col("journal_id") == "JE000803").row(0, named=True)
    reason = row["explanations"][row["tests"].index("manual_to_sensitive_account")]
    assert "a standard entry: TREASURY keyed 2100 / 1000 in 12 months, up to 1595028.12 in another month" in reason


def test_a_standard_entry_inflated_in_one_month_is_tested_in_full(clean: list[dict]) -> None:
    amounts = {m: f"{1_500_000 + 7_919 * m}.{m:02d}" for m in range(1, 13)}
    amounts[7] = "2345678.07"  # half as much again as any other month's transfer
    analysis = run(clean + _monthly_transfers(amounts))
    july = _strengths(analysis, "JE000807")
    assert july["high_value"] == july["manual_to_sensitive_account"] == 1.0
    assert _strengths(analysis, "JE000806")["high_value"] < 1.0


def test_an_entry_keyed_in_too_few_months_is_not_standard(clean: list[dict]) -> None:
    amounts = {m: f"{1_500_000 + 7_919 * m}.{m:02d}" for m in range(1, 6)}
    analysis = run(clean + _monthly_transfers(amounts))
    assert _strengths(analysis, "JE000803")["manual_to_sensitive_account"] == 1.0
    # The engagement can ask for fewer months, or none.
    weak = run(clean + _monthly_transfers(amounts), standard_entry_min_months=5)
    assert _strengths(weak, "JE000803")["manual_to_sensitive_account"] < 1.0
    amounts = {m: f"{1_500_000 + 7_919 * m}.{m:02d}" for m in range(1, 13)}
    off = run(clean + _monthly_transfers(amounts), standard_entry_min_months=0)
    assert _strengths(off, "JE000803")["manual_to_sensitive_account"] == 1.0
    with pytest.raises(ValueError, match="does not recur"):
        JETestSettings(standard_entry_min_months=1)


def test_another_user_keying_the_standard_pattern_is_not_standard(clean: list[dict]) -> None:
    amounts = {m: f"{1_500_000 + 7_919 * m}.{m:02d}" for m in range(1, 13)}
    rows = clean + _monthly_transfers(amounts)
    rows = _replace(rows, 803, [dict(r, entered_by="BEN") for r in rows if r["journal_id"] == "JE000803"])
    analysis = run(rows)
    assert _strengths(analysis, "JE000803")["manual_to_sensitive_account"] == 1.0


def test_standard_patterns_are_the_same_however_the_entries_are_split() -> None:
    from auditray.je import stats

    days = [date(2025, 1, 1) + timedelta(days=d) for d in range(0, 365, 9)]
    journals = pl.DataFrame({
        "entity_id": ["E1"] * len(days) * 2,
        "entered_by": ["ANNA", "BEN"] * len(days),
        "source": ["GJ", None] * len(days),
        "debit_account": ["2100"] * len(days) * 2,
        "credit_account": ["1000", "1000", "1000", "4000"] * (len(days) // 2) + ["1000", "1000"] * (len(days) % 2),
        "effective_date": [d for d in days for _ in range(2)],
        "debit_cents": [(i * 7919) % 100_000 for i in range(len(days) * 2)],
    })
    computation = stats.standard_patterns(6, 1000.0)
    whole = computation.finish(computation.map(journals))
    shuffled = journals.sample(fraction=1.0, shuffle=True, seed=3)
    parts = [shuffled.slice(start, 17) for start in range(0, shuffled.height, 17)]
    split = computation.finish(pl.concat([computation.map(p) for p in parts]))
    assert whole.equals(split)
    assert whole.height == 3 and (whole["pattern_months"] >= 6).all()
    anna = whole.filter(pl.col("entered_by") == "ANNA").row(0, named=True)
    assert anna["pattern_months"] == 12 and anna["pattern_top_cents"] >= anna["pattern_other_cents"]


def test_a_small_entry_to_a_standard_pattern_s_accounts_is_not_the_standard_entry(clean: list[dict]) -> None:
    """A revenue 'adjustment' keyed mid-month by the person who books the monthly accrual to the same accounts,
    at a fraction of its amount, is an ad hoc entry: tested in full."""
    amounts = {m: f"{1_500_000 + 7_919 * m}.{m:02d}" for m in range(1, 13)}
    rows = clean + _monthly_transfers(amounts)
    rows += journal(900, date(2025, 4, 16), [("2100", "14321.09"), ("1000", "-14321.09")], user="TREASURY",
                    header="Adjustment")
    analysis = run(rows)
    assert _strengths(analysis, "JE000900")["manual_to_sensitive_account"] == 1.0
    assert _strengths(analysis, "JE000804")["manual_to_sensitive_account"] < 1.0


def test_one_user_s_entries_to_the_same_accounts_in_amounts_all_over_the_place_are_no_pattern(
        clean: list[dict]) -> None:
    amounts = {m: f"{(5_000 + 7_919 * m) * (1 if m % 2 else 40)}.{m:02d}" for m in range(1, 13)}
    analysis = run(clean + _monthly_transfers(amounts))
    assert _strengths(analysis, "JE000803")["manual_to_sensitive_account"] == 1.0
    patterns = analysis.population["entities"][ENTITY]["standard_entry_patterns"]
    # The four posters' office-expense accruals are steady; the treasurer's transfers are not.
    assert patterns["count"] == 4 and not any("TREASURY" in p for p in patterns["examples"])


def _busy_weeks(closed: date | None = None, *, short_fridays: bool = False) -> list[dict]:
    """Twelve entries a working day through March 2025; on ``closed`` (and with ``short_fridays`` on every
    Friday) only one, keyed by ANNA."""
    rows: list[dict] = []
    number = 0
    for day in _workdays(date(2025, 3, 3), date(2025, 3, 27)):
        for k in range(1 if day == closed or (short_fridays and day.weekday() == 4) else 12):
            number += 1
            cents = int(12_000 + 76_000 * ((number * _GOLDEN) % 1)) + 1
            amount = f"{cents // 100}.{cents % 100:02d}"
            rows += journal(number, day, [("6000", amount), ("2000", f"-{amount}")], user=USERS[k % len(USERS)],
                            at=time(9 + k % 8, (number * 7) % 60))
    return rows


# Busy weeks of four posters keying three entries each a day to the same accounts: not the tests at issue here.
QUIET = ["benford_outlier", "unusual_user", "split_entry"]


def test_an_entry_keyed_on_a_day_the_ledger_shows_the_office_closed_is_a_holiday_posting() -> None:
    """A local holiday no calendar lists (a Tuesday on which the team keyed one entry instead of twelve)."""
    closed = date(2025, 3, 18)
    analysis = run(_busy_weeks(closed), disabled_tests=QUIET)
    lone = analysis.entries.filter(pl.col("effective_date") == closed).row(0, named=True)
    assert lone["tests"] == ["holiday_posting"]
    reason = ("entered on Tuesday 2025-03-18, a day the ledger shows the office closed (1 keyed that day against 12 "
              "on an ordinary working day)")
    assert lone["explanations"] == [reason]
    assert analysis.population["closed_days"]["days"] == [
        {"entity_id": ENTITY, "date": "2025-03-18", "entries": 1, "ordinary_day": 12}]
    # Every other day is an ordinary one; holidays the engagement states are not second-guessed.
    assert analysis.entries.filter(pl.col("tests").list.len() > 0).height == 1
    stated = run(_busy_weeks(closed), disabled_tests=QUIET, holidays=[])
    assert stated.entries.filter(pl.col("tests").list.len() > 0).height == 0
    assert stated.population["closed_days"]["days"] == []


def test_identical_system_postings_are_duplicates_only_with_the_same_document_reference(clean: list[dict]) -> None:
    """A billing plan's identical invoices to two customers (references INV-1 and INV-2) are two documents; the
    interface posting INV-1 a second time is a duplicate."""
    def invoice(number: int, reference: str) -> list[dict]:
        rows = journal(number, date(2025, 6, 3), [("1200", "1190.00"), ("4000", "-1190.00")], user="SD_BATCH",
                       header=None, manual=False)
        return [dict(r, document_reference=reference) for r in rows]

    rows = [dict(r, document_reference=None) for r in clean]
    two_documents = run(rows + invoice(901, "INV-1") + invoice(902, "INV-2"))
    assert "duplicate_entry" not in tripped(two_documents, "JE000902")
    posted_twice = run(rows + invoice(901, "INV-1") + invoice(902, "INV-1"))
    assert "duplicate_entry" in tripped(posted_twice, "JE000902")


def test_a_weekday_as_quiet_week_after_week_is_a_short_day_not_a_run_of_holidays() -> None:
    closed = date(2025, 3, 18)
    analysis = run(_busy_weeks(closed, short_fridays=True), disabled_tests=QUIET)
    assert [d["date"] for d in analysis.population["closed_days"]["days"]] == ["2025-03-18"]
    fridays = analysis.entries.filter(pl.col("effective_date").dt.weekday() == 5)
    assert fridays.height == 3 and fridays["tests"].list.len().sum() == 0


def test_the_weekend_days_a_store_s_interfaces_work_are_found_apart_from_its_people_s() -> None:
    """A retailer's point of sale posts every Saturday; its people keyed on three Sundays: only the Saturdays of
    the interfaces are worked days (their postings then trip nothing), a person's Sunday entry is still unusual."""
    from auditray.je.facts import worked_weekdays

    facts = {"E1": EntityFacts(entity_id="E1", journals=10, manual_journals=0, fiscal_year_start=date(2025, 1, 1),
                               fiscal_year_end=date(2025, 12, 31), closing_date=date(2026, 1, 30),
                               period_end_dates=[], high_value_cents=1, backdated_days=30,
                               period_end_amount_cents=1, unusual_user_max_journals=1, seldom_account_max_journals=1,
                               rare_pair_max_journals=1, rare_group_pair_max_journals=1, authorised_posters=None)}
    days = [date(2025, 1, 1) + timedelta(days=d) for d in range(365)]
    saturdays = [d for d in days if d.isoweekday() == 6]
    sundays = [d for d in days if d.isoweekday() == 7][:3]
    weekdays = [d for d in days if d.isoweekday() <= 5]
    rows = ([(d, False) for d in saturdays[:40]] + [(d, True) for d in sundays] + [(d, True) for d in weekdays]
            + [(date(2026, 1, 3), False)])  # after the year end: not counted
    journals = pl.DataFrame(rows, schema={"entry_date": pl.Date, "manual": pl.Boolean}, orient="row").with_columns(
        entity_id=pl.lit("E1"))
    found = worked_weekdays(journals, facts, [1, 2, 3, 4, 5])
    assert found.rows() == [("E1", False, 6, 40, 52)]
    # 20 of 52 Saturdays is not a working day; nor is anything when the business week has no day off.
    assert worked_weekdays(journals.filter(pl.col("entry_date") > saturdays[19]), facts, [1, 2, 3, 4, 5]).is_empty()
    assert worked_weekdays(journals, facts, [1, 2, 3, 4, 5, 6, 7]).is_empty()


def test_a_keyword_counts_from_the_start_of_a_word_not_inside_a_vendor_s_name(clean: list[dict]) -> None:
    """'Danbury' holds 'bury' and 'Plugin' holds 'plug': neither is a sign; 'Plugged', 'backdated' and 'bury' are."""
    rows = _replace(clean, 100, journal(100, date(2025, 5, 14), [("6100", "812.40"), ("2000", "-812.40")],
                                        header="Danbury Plumbing - Plugin valve repair"))
    rows = _replace(rows, 101, journal(101, date(2025, 5, 15), [("6100", "640.10"), ("2000", "-640.10")],
                                       header="Plugged the difference, bury it in repairs"))
    analysis = run(rows)
    assert "suspicious_keyword" not in tripped(analysis, "JE000100")
    assert "suspicious_keyword" in tripped(analysis, "JE000101")


def test_an_entry_split_in_three_parts_each_under_half_the_limit_is_a_split(clean: list[dict]) -> None:
    """67,436.25 keyed as three accruals under a 50,000.00 limit: each part is under half the limit, yet a
    real third of the total. A small unrelated entry the same day beside two parts that stay under the limit
    together is not."""
    def keyed(first: int, day: date, amounts: tuple[str, ...]) -> list[dict]:
        return [r for k, amount in enumerate(amounts)
                for r in journal(first + k, day, [("6000", amount), ("2000", f"-{amount}")], user="DAVID",
                                 at=time(10, 10 + k))]

    rows = clean + keyed(701, date(2025, 5, 13), ("24880.40", "22615.75", "19940.10")) \
        + keyed(711, date(2025, 6, 11), ("24880.40", "22615.75", "4000.00"))
    analysis = run(rows, entities={ENTITY: {"approval_limit": "50000.00"}})
    assert all("split_entry" in tripped(analysis, f"JE{n:06d}") for n in (701, 702, 703))
    assert not any("split_entry" in tripped(analysis, f"JE{n:06d}") for n in (711, 712, 713))


def test_amounts_with_cents_ending_alike_in_their_last_two_digits_and_cents_are_a_recurring_ending(
        clean: list[dict]) -> None:
    """3,612.75, 4,112.75 and 9,812.75 by one person to one pair end in 12.75: made up to a pattern. Among the
    hundreds of invoices a clerk keys to one pair, three alike four-digit endings are chance (one in 10,000
    each): there the endings are compared on the last three whole digits and the cents, as whole amounts are."""
    def keyed(first: int, user: str, amounts: list[str]) -> list[dict]:
        return [r for k, amount in enumerate(amounts)
                for r in journal(first + k, date(2025, 3, 3) + timedelta(days=k % 200), [("6100", amount),
                                 ("2000", f"-{amount}")], user=user)]

    busy = [f"{1000 + 37 * k}.{(k * 7) % 100:02d}" for k in range(240)]
    busy[10], busy[50], busy[90] = "2312.75", "5412.75", "7712.75"
    rows = clean + keyed(801, "ERIN", ["3612.75", "4112.75", "9812.75"]) + keyed(1001, "FRANK", busy)
    analysis = run(rows)
    assert all("recurring_ending" in tripped(analysis, f"JE{n:06d}") for n in (801, 802, 803))
    assert not any("recurring_ending" in tripped(analysis, f"JE{n:06d}") for n in (1011, 1051, 1091))


def test_numbers_two_subsidiaries_draw_from_one_range_are_no_holes_but_a_number_neither_has_is() -> None:
    """NetSuite numbers each transaction type once for all subsidiaries: US took JE101-JE110 but JE103, JE106,
    JE108 and JE109, UK took JE103, JE106 and JE109; JE108 is missing from both (a hole in the one range: the
    UK's entry after it names it). Two companies that each number from JE1 keep two sequences."""
    from auditray.je.stats import sequence_numbers

    gaps = sequence_numbers()

    def holes(entities: list[str], ids: list[str]) -> list[tuple]:
        journals = pl.DataFrame({"entity_id": entities, "journal_id": ids, "fiscal_year": [2025] * len(ids),
                                 "entry_date": [date(2025, 3, 1)] * len(ids)}, schema_overrides={"fiscal_year": pl.Int16})
        return gaps.finish(gaps.map(journals)).select("entity_id", "journal_id", "previous_journal", "missing").rows()

    us = [f"JE{n}" for n in range(101, 111) if n not in (103, 106, 108, 109)]
    assert holes(["US"] * len(us) + ["UK"] * 3, [*us, "JE103", "JE106", "JE109"]) == [("UK", "JE109", "JE107", 1)]
    a = [f"JE{n}" for n in range(1, 8) if n != 4]
    b = [f"JE{n}" for n in range(1, 8)]
    assert holes(["A"] * len(a) + ["B"] * len(b), [*a, *b]) == [("A", "JE5", "JE3", 1)]


def test_a_feed_that_posts_every_day_does_not_make_the_office_s_holidays_working_days() -> None:
    """Stripe posts 30 entries every day, weekends and holidays included; people key 40 a working day and 3 on
    Labor Day, 35 on Columbus Day. Columbus Day is worked, Labor Day is not; for the feed every holiday is a
    working day (its postings on them trip nothing)."""
    from auditray.je.facts import always_on_users, worked_holidays

    columbus, labor = date(2025, 10, 13), date(2025, 9, 1)
    days = [date(2025, 8, 1) + timedelta(days=d) for d in range(90)]
    people = [d for d in days if d.isoweekday() <= 5 and d not in (columbus, labor) for _ in range(40)]
    people += [columbus] * 35 + [labor] * 3
    feed = [d for d in days for _ in range(30)]
    journals = pl.DataFrame({"entity_id": "E1", "entered_by": ["ANNA"] * len(people) + ["Stripe"] * len(feed),
                             "manual": [True] * len(people) + [False] * len(feed), "entry_date": people + feed,
                             "effective_date": people + feed})
    assert always_on_users(journals, "entry_date", [1, 2, 3, 4, 5]).rows() == [("E1", "Stripe")]
    assert worked_holidays(journals, [labor, columbus], [1, 2, 3, 4, 5]) == [columbus]
    assert worked_holidays(journals, [labor, columbus], [1, 2, 3, 4, 5], interfaces=True) == [labor, columbus]


def test_an_account_posted_to_month_after_month_is_in_regular_use_not_seldom_used() -> None:
    """Twelve journals a year, one a month, is an account in regular use however few its journals; three
    journals in one week is a seldom-used account."""
    from auditray.je.facts import REGULAR_USE_MIN_DAYS, REGULAR_USE_MIN_JOURNALS, classify_accounts

    profile = pl.DataFrame({
        "entity_id": ["E1", "E1"], "gl_account_number": ["6060", "6999"], "lines": [12, 3], "journals": [12, 3],
        "manual_lines": [12, 3], "activity_cents": [1, 1], "debit_cents": [1, 1], "credit_cents": [0, 0],
        "first_effective": [date(2025, 1, 31), date(2025, 6, 2)],
        "last_effective": [date(2025, 12, 31), date(2025, 6, 6)],
        "median_log_amount": [3.0, 3.0], "mad_log_amount": [0.1, 0.1], "median_abs_cents": [1000.0, 1000.0]})
    accounts = classify_accounts(profile, JETestSettings())
    assert REGULAR_USE_MIN_JOURNALS <= 12 and REGULAR_USE_MIN_DAYS <= 334
    assert accounts.select("gl_account_number", "regular_use").rows() == [("6060", True), ("6999", False)]

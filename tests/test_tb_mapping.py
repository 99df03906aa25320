"""Mapping accounts to the standard chart: layer precedence, the review queue, evidence from balances,
account types and numbers, and accuracy on names the mapper never learned from."""

from __future__ import annotations

import pickle
from decimal import Decimal

import polars as pl
import pytest
from auditray.tb.evaluate import evaluate_held_back
from auditray.tb.labelled import held_back_accounts, labelled_accounts, split_of, training_accounts
from auditray.tb.mapping import Override, PriorMapping, map_trial_balance, mapping_hash, mapping_summary
from auditray.tb.rules import RuleError, load_rules

from tests.tb_expected import expected_fsli
from tests.tb_helpers import TB_DATA, accuracy, mapper, tb_rows, trained_classifier


def _one(mapped: pl.DataFrame, number: str) -> dict:
    return mapped.filter(pl.col("gl_account_number") == number).row(0, named=True)


# --- Layers and their precedence ---------------------------------------------------------------------

def test_a_keyword_rule_maps_a_plain_account_and_says_so() -> None:
    row = map_trial_balance(tb_rows([("1010", "Cash - Operating", "100.00", "0")]), mapper()).row(0, named=True)
    assert (row["fsli"], row["mapping_source"], row["needs_review"]) == ("cash", "rule", False)
    assert row["confidence"] >= 0.9 and "rule cash" in row["mapping_reason"]


def test_layer_precedence_override_then_prior_period_then_rule_then_model() -> None:
    tb = tb_rows([
        ("1010", "Cash - Operating", "100.00", "0"),           # rule says cash; override says investments
        ("1020", "Cash - Payroll", "50.00", "0"),              # rule says cash; prior period says other assets
        ("1030", "Petty cash", "10.00", "0"),                  # rule only
        ("6999", "Zqwx accommodation costs", "5.00", "0"),     # no rule: the classifier decides or review
    ])
    layered = mapper().with_context(
        overrides=[Override("1010", "investments", reason="sweep into money-market fund", set_by="ann")],
        prior=[PriorMapping("E1", "1020", "Cash - Payroll", "other_current_assets", "FY2024 P12")],
    )
    mapped = map_trial_balance(tb, layered)
    assert (_one(mapped, "1010")["fsli"], _one(mapped, "1010")["mapping_source"]) == ("investments", "override")
    assert _one(mapped, "1010")["confidence"] == 1.0
    assert (_one(mapped, "1020")["fsli"], _one(mapped, "1020")["mapping_source"]) == ("other_current_assets",
                                                                                      "prior_period")
    assert (_one(mapped, "1030")["fsli"], _one(mapped, "1030")["mapping_source"]) == ("cash", "rule")
    assert _one(mapped, "6999")["mapping_source"] == "model"


def test_the_prior_period_mapping_yields_when_the_account_was_renamed() -> None:
    tb = tb_rows([("1020", "Bank loan - Sparkasse", "-50.00", "0")])
    layered = mapper().with_context(prior=[PriorMapping("E1", "1020", "Cash - Payroll", "cash")])
    row = map_trial_balance(tb, layered).row(0, named=True)
    assert (row["fsli"], row["mapping_source"]) == ("long_term_debt", "rule")


def test_an_override_beats_a_confident_rule_even_with_the_wrong_balance_side() -> None:
    tb = tb_rows([("4000", "Product sales", "500.00", "0")])
    row = map_trial_balance(tb, mapper().with_context(
        overrides=[Override("4000", "other_income", reason="scrap sales, not revenue")])).row(0, named=True)
    assert (row["fsli"], row["mapping_source"], row["needs_review"]) == ("other_income", "override", False)


# --- The review queue ----------------------------------------------------------------------------------

def test_below_the_threshold_nothing_is_guessed() -> None:
    mapped = map_trial_balance(tb_rows([("9999", "Xq 17 zzv", "12.00", "0")]), mapper())
    row = mapped.row(0, named=True)
    assert row["needs_review"] is True
    assert row["fsli"] is None
    assert row["suggested_fsli"] is not None and row["confidence"] < 0.7


def test_a_stricter_threshold_sends_more_to_review() -> None:
    tb = tb_rows([("1010", "Cash - Operating", "1.00", "0"), ("6100", "Rent", "1.00", "0"),
                  ("6200", "Workshop sundries", "1.00", "0"), ("7000", "Misc", "-3.00", "0")])
    lenient = map_trial_balance(tb, mapper(threshold=0.5))["needs_review"].sum()
    strict = map_trial_balance(tb, mapper(threshold=0.999))["needs_review"].sum()
    assert strict > lenient


# --- Evidence: balance side, account type, number layout, department ---------------------------------

def test_a_balance_on_the_wrong_side_lowers_confidence() -> None:
    right = map_trial_balance(tb_rows([("1250", "Allowance for doubtful accounts", "-300.00", "0")]), mapper())
    wrong = map_trial_balance(tb_rows([("1250", "Allowance for doubtful accounts", "300.00", "0")]), mapper())
    assert right["fsli"][0] == "allowance_doubtful_accounts"
    assert wrong["confidence"][0] < right["confidence"][0]
    assert "unusual side" in wrong["mapping_reason"][0]


@pytest.mark.parametrize(("name", "closing", "fsli"), [
    ("Suspense", "250.00", "other_current_assets"),
    ("Suspense", "-250.00", "other_current_liabilities"),
    ("Foreign exchange differences", "80.00", "other_expense"),
    ("Foreign exchange differences", "-80.00", "other_income"),
    ("Corporation tax", "-900.00", "income_taxes_payable"),
    ("Corporation tax", "900.00", "income_tax_expense"),
])
def test_two_sided_names_are_decided_by_the_balance(name: str, closing: str, fsli: str) -> None:
    row = map_trial_balance(tb_rows([("1999", name, closing, "0")]), mapper()).row(0, named=True)
    assert row["fsli"] == fsli


def test_the_clients_account_type_narrows_the_candidates() -> None:
    tb = tb_rows([("3000", "Kitchen Equipment Finance", "-4000.00", "0")])
    chart = pl.DataFrame({"entity_id": ["E1"], "gl_account_number": ["3000"], "account_type": ["Long Term Liability"]})
    with_type = map_trial_balance(tb, mapper(), chart=chart).row(0, named=True)
    assert standard_chart_class(with_type["suggested_fsli"]) == "liability"


def standard_chart_class(code: str) -> str:
    from auditray.tb.standard_chart import standard_chart

    return standard_chart()[code].account_class


def test_a_statutory_chart_is_recognised_by_its_numbers() -> None:
    tb = tb_rows([
        ("512000", "Banque", "1000.00", "0"), ("411000", "Clients", "500.00", "0"),
        ("401000", "Fournisseurs", "-300.00", "0"), ("101000", "Capital social", "-1000.00", "0"),
        ("607000", "Achats de marchandises", "200.00", "0"), ("707000", "Ventes de marchandises", "-600.00", "0"),
        ("281500", "Amort. outillage", "-100.00", "0"), ("455100", "Compte courant M. Martin", "-200.00", "0"),
    ], entity="FR")
    mapped = map_trial_balance(tb, mapper())
    assert set(mapped["numbering"].to_list()) == {"pcg"}
    assert _one(mapped, "281500")["fsli"] == "accumulated_depreciation"
    assert _one(mapped, "455100")["fsli"] == "long_term_debt"


def test_a_department_suffix_does_not_change_the_nature_of_a_cost() -> None:
    mapped = map_trial_balance(tb_rows([("6300", "Airfare - research and development", "10.00", "0"),
                                        ("6000", "Salaries - Sales", "10.00", "0")]), mapper())
    assert _one(mapped, "6300")["fsli"] == "selling_general_administrative"
    assert _one(mapped, "6000")["fsli"] == "salaries_and_wages"


# --- Rule sets per client or industry ----------------------------------------------------------------

def test_a_client_rule_file_goes_before_the_defaults(tmp_path) -> None:
    rules = tmp_path / "client.yaml"
    rules.write_text("rules:\n  - id: client_hosting\n    fsli: cost_of_revenue\n    any: ['\\bhosting\\b']\n")
    tb = tb_rows([("6450", "Cloud hosting", "10.00", "0")])
    default = map_trial_balance(tb, mapper())
    client = map_trial_balance(tb, mapper(rules=load_rules(rules)))
    assert default["fsli"][0] == "selling_general_administrative"
    assert client["fsli"][0] == "cost_of_revenue" and "client_hosting" in client["mapping_reason"][0]


def test_a_shipped_industry_rule_set_applies() -> None:
    tb = tb_rows([("2150", "Billings in excess of costs", "-10.00", "0"), ("1620", "Retainage receivable", "5", "0")])
    mapped = map_trial_balance(tb, mapper(rules=load_rules(industry="construction")))
    assert mapped["fsli"].to_list() == ["deferred_revenue", "accounts_receivable"]


@pytest.mark.parametrize(("text", "says"), [
    ("rules:\n  - id: x\n    fsli: not_a_line\n    any: ['a']\n", "not a line item"),
    ("rules:\n  - id: x\n    fsli: cash\n    any: ['(unclosed']\n", "not a valid regular expression"),
    ("rules:\n  - id: x\n    fsli: cash\n", "at least one pattern"),
    ("just text", "expected a mapping"),
])
def test_a_bad_rule_file_names_the_file_the_rule_and_the_fault(tmp_path, text: str, says: str) -> None:
    path = tmp_path / "bad_rules.yaml"
    path.write_text(text)
    with pytest.raises(RuleError) as raised:
        load_rules(path)
    assert "bad_rules.yaml" in str(raised.value) and says in str(raised.value)


# --- The classifier: retraining, pickling ----------------------------------------------------------------

def test_retraining_with_overrides_teaches_the_classifier_a_clients_vocabulary() -> None:
    from auditray.tb.classifier import override_examples

    base = trained_classifier()
    name = "Quorvex reserve pool"
    retrained = base.with_examples(override_examples([(name, "retained_earnings"), ("Quorvex pool", "retained_earnings"),
                                                      ("Quorvex reserve", "retained_earnings")]))
    assert retrained.digest != base.digest
    before = dict(zip(base.classes, base.probabilities([name])[0], strict=True))["retained_earnings"]
    after = dict(zip(retrained.classes, retrained.probabilities([name])[0], strict=True))["retained_earnings"]
    assert after > before
    assert retrained.predict([name])[0][0] == "retained_earnings"


def test_the_mapper_pickles_and_maps_the_same_after(tmp_path) -> None:
    tb = tb_rows([("1010", "Cash - Operating", "1.00", "0"), ("6777", "Zorp supplies", "1.00", "0")])
    original = mapper()
    copy = pickle.loads(pickle.dumps(original))
    assert map_trial_balance(tb, copy).equals(map_trial_balance(tb, original))


def test_the_mapping_hash_changes_with_any_decision() -> None:
    tb = tb_rows([("1010", "Cash - Operating", "1.00", "0"), ("1020", "Petty cash", "1.00", "0")])
    mapped = map_trial_balance(tb, mapper())
    assert mapping_hash(mapped) == mapping_hash(mapped.reverse())
    changed = mapped.with_columns(fsli=pl.when(pl.col("gl_account_number") == "1020").then(pl.lit("inventory"))
                                  .otherwise(pl.col("fsli")))
    assert mapping_hash(changed) != mapping_hash(mapped)
    assert mapping_summary(mapped)["by_source"]["rule"] == 2


# --- Accuracy on names never learned from --------------------------------------------------------------

def test_the_held_back_split_is_fixed_and_never_trained_on() -> None:
    labelled = labelled_accounts()
    assert labelled.height >= 600
    assert 0.15 <= held_back_accounts().height / labelled.height <= 0.25
    assert all(split_of(n) == "held_back" for n in held_back_accounts()["gl_account_name"].to_list())
    trained_names = {e.name for e in trained_classifier().examples}
    assert trained_names.isdisjoint(set(held_back_accounts()["gl_account_name"].to_list()))
    assert set(training_accounts()["gl_account_name"].to_list()) <= trained_names


def test_held_back_accuracy_meets_the_target() -> None:
    """At least 95% of the automatic mappings right, at most 15% of accounts sent to review."""
    evaluation, mapped = evaluate_held_back(mapper())
    assert evaluation.accounts >= 150
    assert evaluation.automatic_accuracy >= 0.95, mapped.filter(pl.col("fsli") != pl.col("expected_fsli"))
    assert evaluation.review_share <= 0.15


def test_the_generated_groups_trial_balances_map_to_the_answer_key(tmp_path) -> None:
    """Five house styles (US, abbreviated, UK, upper case, colon) of the generator's chart."""
    from auditray.generate import GeneratorConfig, generate_engagement

    generated = generate_engagement(GeneratorConfig(seed=5, n_lines=20_000, n_entities=5, anomaly_rate=0.0),
                                    tmp_path / "engagement")
    tb = pl.read_parquet(generated.trial_balance)
    mapped = map_trial_balance(tb, mapper())
    expected = [expected_fsli(n, 0 if c == 0 else (1 if c > 0 else -1))
                for n, c in mapped.select("gl_account_number", "closing_balance").iter_rows()]
    scored = mapped.with_columns(expected=pl.Series(expected, dtype=pl.String))
    automatic = scored.filter(~pl.col("needs_review"))
    assert (automatic["fsli"] == automatic["expected"]).mean() >= 0.95
    assert scored["needs_review"].mean() <= 0.15


@pytest.mark.parametrize(("tb_file", "labels", "kwargs"), [
    ("quickbooks_trial_balance.csv", "quickbooks_labels.csv",
     {"entity_id": "NW01", "mapping": {"constants": {"fiscal_year": 2025, "period": 12}}}),
    ("datev_saldenliste.csv", "datev_labels.csv", {"mapping": TB_DATA / "datev_mapping.yaml"}),
    ("xero_trial_balance.csv", "xero_labels.csv",
     {"entity_id": "AU10", "mapping": {"constants": {"fiscal_year": 2025, "period": 12}}}),
    ("pcg_balance.csv", "pcg_labels.csv", {"mapping": TB_DATA / "pcg_mapping.yaml"}),
])
def test_client_exports_in_four_styles_meet_the_target(tb_file: str, labels: str, kwargs: dict) -> None:
    from auditray.ingest import read_source

    tb = read_source(TB_DATA / tb_file, "trial_balance", **kwargs)
    expected = pl.read_csv(TB_DATA / labels, schema_overrides={"gl_account_number": pl.String})
    on = "gl_account_name" if tb_file.startswith("quickbooks") else "gl_account_number"
    right, review, misses = accuracy(map_trial_balance(tb, mapper()), expected, on)
    assert right >= 0.95, misses
    assert review <= 0.15, misses


def test_amounts_are_never_touched_by_the_mapping() -> None:
    tb = tb_rows([("1010", "Cash", "0.01", "0.00"), ("2000", "Accounts payable", "-0.01", "0.00")])
    mapped = map_trial_balance(tb, mapper())
    assert mapped["closing_balance"].to_list() == [Decimal("0.01"), Decimal("-0.01")]
    assert mapped.schema["closing_balance"] == pl.Decimal(18, 2)


@pytest.mark.slow
def test_the_shipped_minilm_embeddings_can_join_the_classifier() -> None:
    """Opt-in: MiniLM sentence embeddings from site-packages (never downloaded) averaged with the TF-IDF model."""
    from auditray.tb.classifier import TrainingExample, _embedding_model_path, train_classifier

    assert (_embedding_model_path() / "model.safetensors").is_file()
    rows = training_accounts().filter(pl.col("fsli").is_in(["cash", "accounts_payable", "revenue", "rent_expense"]))
    classifier = train_classifier([TrainingExample(n, f) for n, f in rows.select("gl_account_name", "fsli").iter_rows()],
                                  use_embeddings=True)
    predicted, confidence = classifier.predict(["Operating bank account", "Office lease payments"])
    assert predicted == ["cash", "rent_expense"]
    assert all(0 < c < 1 for c in confidence)
    assert pickle.loads(pickle.dumps(classifier)).predict(["Trade creditors"])[0] == ["accounts_payable"]

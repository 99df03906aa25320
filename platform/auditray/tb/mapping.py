"""Map a client's trial balance to the standard chart, in layers, each answer with its reason.

Layers, in order of precedence (the first whose confidence reaches the threshold decides):

1. ``override``: the auditor's saved decision for the client's account number (confidence 1).
2. ``prior_period``: last period's mapping of the same account, if its name has not changed.
3. ``rule``: keyword rules (ordered, first match wins; client and industry rule files first) read the
   account's nature (a trailing department, "- sales", ": R&D", is set aside); the chart's number layout,
   detected per trial balance from the accounts the keywords recognise, corroborates the class, and in a
   statutory chart (PCG, PGC, SKR03/04) the number prefix names the line item outright.
4. ``model``: the trained classifier, its probabilities narrowed by what else is known about the
   account (the client's account type, the number range, the balance side) and calibrated.

Below the threshold nothing is guessed: ``fsli`` stays null, ``needs_review`` is true and the best
candidate is offered in ``suggested_fsli`` for the auditor to confirm or override. Using the work of
the entity's own chart and last year's mapping is the auditor's judgement to make (AU-C 500.09 / ISA
500.9, information produced by the entity); the reason column records which source each answer rests on.

Balance-side sanity: a balance on the opposite side of a candidate's normal side lowers its confidence
(an "Allowance" with a credit balance fits the contra-asset; with a debit balance something is off), and
rules for two-sided names (suspense, exchange differences, a bare "Corporation tax") choose by side.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from auditray.tb.names import normalize_account_name, strip_department
from auditray.tb.rules import NumberingFamily, RuleMatch, RuleSet, default_rules, detect_family
from auditray.tb.standard_chart import standard_chart

if TYPE_CHECKING:
    from auditray.tb.classifier import AccountClassifier

MAPPING_SOURCES: tuple[str, ...] = ("override", "prior_period", "rule", "model")
DEFAULT_THRESHOLD = 0.7
TB_KEYS: tuple[str, ...] = ("entity_id", "fiscal_year", "period")
MAPPED_COLUMNS: dict[str, pl.DataType] = {
    "fsli": pl.String(),
    "sub_line": pl.String(),
    "suggested_fsli": pl.String(),
    "confidence": pl.Float64(),
    "mapping_source": pl.String(),
    "mapping_reason": pl.String(),
    "needs_review": pl.Boolean(),
    "account_class": pl.String(),
    "numbering": pl.String(),
}

PRIOR_SAME_NAME_CONFIDENCE = 0.98
PRIOR_RENAMED_CONFIDENCE = 0.6
PRIOR_SAME_NAME_RATIO = 0.9
# Multipliers on a candidate that another source of evidence contradicts.
TYPE_CONFLICT = 0.5
NUMBER_CONFLICT = 0.6
SIDE_CONFLICT = 0.9
# For the model: how much less likely a line item becomes when the evidence speaks against it.
MODEL_TYPE_FACTOR = 0.02
MODEL_NUMBER_FACTOR = 0.25
MODEL_SIDE_FACTOR = 0.5
ANCHOR_CONFIDENCE = 0.9
# A statutory chart's number prefix (PCG, PGC, SKR03/04) names the line item this reliably.
NUMBER_LINE_CONFIDENCE = 0.88
NAME_DISAGREES = 0.95


@dataclass(frozen=True)
class Override:
    """An auditor's decision: this client account belongs on this line item."""

    gl_account_number: str
    fsli: str
    account_name: str | None = None
    reason: str | None = None
    set_by: str | None = None


@dataclass(frozen=True)
class PriorMapping:
    """How an account was mapped in the previous period."""

    entity_id: str
    gl_account_number: str
    account_name: str | None
    fsli: str
    period_label: str = "prior period"


# --- Account types: what the client's own chart says about an account ----------------------------------

def _class_codes(*classes: str) -> frozenset[str]:
    chart = standard_chart()
    return frozenset(code for c in classes for code in chart.codes_of_class(c))


def _type_hints() -> dict[str, frozenset[str]]:
    current_assets = frozenset({"cash", "accounts_receivable", "allowance_doubtful_accounts", "inventory",
                                "prepaid_expenses", "other_current_assets", "investments"})
    fixed = frozenset({"property_plant_equipment", "accumulated_depreciation", "intangible_assets", "goodwill"})
    other_assets = frozenset({"other_noncurrent_assets", "intangible_assets", "goodwill", "investments",
                              "property_plant_equipment", "accumulated_depreciation"})
    current_liabilities = frozenset({"accounts_payable", "accrued_liabilities", "deferred_revenue",
                                     "income_taxes_payable", "short_term_debt", "other_current_liabilities",
                                     "lease_liabilities"})
    long_liabilities = frozenset({"long_term_debt", "lease_liabilities", "other_liabilities", "deferred_revenue"})
    income = frozenset({"revenue", "other_income", "interest_income"})
    other_expense = frozenset({"other_expense", "interest_expense", "income_tax_expense"})
    hints = {
        "asset": _class_codes("asset"),
        "liability": _class_codes("liability"),
        "equity": _class_codes("equity"),
        "revenue": _class_codes("revenue"),
        "income": income,
        "expense": _class_codes("expense"),
        "expenses": _class_codes("expense"),
        # QuickBooks account types
        "bank": frozenset({"cash"}),
        "accounts receivable": frozenset({"accounts_receivable", "allowance_doubtful_accounts",
                                          "other_current_assets"}),
        "accounts receivable (a/r)": frozenset({"accounts_receivable", "allowance_doubtful_accounts",
                                                "other_current_assets"}),
        "other current asset": current_assets,
        "other current assets": current_assets,
        "fixed asset": fixed,
        "fixed assets": fixed,
        "other asset": other_assets,
        "other assets": other_assets,
        "accounts payable": frozenset({"accounts_payable"}),
        "accounts payable (a/p)": frozenset({"accounts_payable"}),
        "credit card": frozenset({"accounts_payable", "short_term_debt"}),
        "other current liability": current_liabilities,
        "other current liabilities": current_liabilities,
        "long term liability": long_liabilities,
        "long term liabilities": long_liabilities,
        "cost of goods sold": frozenset({"cost_of_revenue"}),
        "other income": frozenset({"other_income", "interest_income"}),
        "other expense": other_expense,
        # Xero account types
        "current asset": current_assets,
        "current assets": current_assets,
        "inventory": frozenset({"inventory"}),
        "non-current asset": other_assets,
        "non-current assets": other_assets,
        "prepayment": frozenset({"prepaid_expenses"}),
        "current liability": current_liabilities,
        "current liabilities": current_liabilities,
        "non-current liability": long_liabilities,
        "non-current liabilities": long_liabilities,
        "sales": frozenset({"revenue"}),
        "direct costs": frozenset({"cost_of_revenue"}),
        "overhead": _class_codes("expense") - {"cost_of_revenue", "income_tax_expense", "interest_expense"},
        "overheads": _class_codes("expense") - {"cost_of_revenue", "income_tax_expense", "interest_expense"},
        "depreciation": frozenset({"depreciation_amortization"}),
    }
    hints["liabilities"] = hints["liability"]
    hints["assets"] = hints["asset"]
    return hints


_TYPE_HINTS: dict[str, frozenset[str]] | None = None


def account_type_hint(account_type: str | None) -> frozenset[str] | None:
    """The line items an account of this client-side type may map to, or None if the type says nothing."""
    global _TYPE_HINTS
    if not account_type:
        return None
    if _TYPE_HINTS is None:
        _TYPE_HINTS = _type_hints()
    return _TYPE_HINTS.get(" ".join(str(account_type).casefold().replace("_", " ").split()))


# --- The mapper -------------------------------------------------------------------------------------------

@dataclass
class AccountMapper:
    """Everything a mapping run uses: rules, classifier, threshold, the client's overrides and prior map.

    Picklable: the engine ships it to Ray workers as it is.
    """

    rules: RuleSet = field(default_factory=default_rules)
    classifier: AccountClassifier | None = None
    threshold: float = DEFAULT_THRESHOLD
    overrides: Mapping[str, Override] = field(default_factory=dict)
    prior: Mapping[tuple[str, str], PriorMapping] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0 < self.threshold <= 1:
            raise ValueError("the review threshold must be in (0, 1]")
        self.overrides = dict(self.overrides)
        self.prior = dict(self.prior)

    def with_context(self, *, overrides: Iterable[Override] = (), prior: Iterable[PriorMapping] = ()
                     ) -> AccountMapper:
        """A copy that also knows a client's overrides and last period's mapping."""
        return AccountMapper(
            rules=self.rules,
            classifier=self.classifier,
            threshold=self.threshold,
            overrides={**self.overrides, **{o.gl_account_number: o for o in overrides}},
            prior={**self.prior, **{(p.entity_id, p.gl_account_number): p for p in prior}},
        )

    def fingerprint(self) -> dict[str, Any]:
        """What a run's audit event records about the mapper."""
        return {
            "threshold": self.threshold,
            "rules": self.rules.fingerprint(),
            "rule_sources": list(self.rules.sources),
            "classifier": self.classifier.digest[:16] if self.classifier else None,
            "overrides": len(self.overrides),
            "prior_mappings": len(self.prior),
        }


@dataclass
class _Account:
    entity_id: str
    number: str
    name: str
    normalized: str
    sign: int
    account_type: str | None
    rule: RuleMatch | None = None


def _balance_sign(closing: Decimal | None, opening: Decimal | None) -> int:
    for value in (closing, opening):
        if value is not None and value != 0:
            return 1 if value > 0 else -1
    return 0


def _side_of(fsli: str, sub_line: str | None = None) -> int:
    chart = standard_chart()
    line = chart[sub_line] if sub_line else chart[fsli]
    return line.sign


def _class_of(fsli: str) -> str:
    return standard_chart()[fsli].account_class


def _prior_candidate(mapper: AccountMapper, account: _Account) -> tuple[str, float, str] | None:
    prior = mapper.prior.get((account.entity_id, account.number))
    if prior is None:
        return None
    previous = normalize_account_name(prior.account_name)
    ratio = difflib.SequenceMatcher(None, previous, account.normalized).ratio() if previous else 1.0
    if ratio >= PRIOR_SAME_NAME_RATIO:
        return prior.fsli, PRIOR_SAME_NAME_CONFIDENCE, f"mapped so in {prior.period_label}"
    return (prior.fsli, PRIOR_RENAMED_CONFIDENCE,
            f"mapped so in {prior.period_label} under the name {prior.account_name!r}; renamed since")


def _family_for(mapper: AccountMapper, accounts: list[_Account]) -> NumberingFamily | None:
    anchors = [(a.number, _class_of(a.rule.fsli)) for a in accounts
               if a.rule is not None and a.rule.confidence >= ANCHOR_CONFIDENCE and not a.rule.side_decided]
    family, _, _ = detect_family(mapper.rules, anchors)
    return family


def _model_candidates(mapper: AccountMapper, accounts: list[_Account], family: NumberingFamily | None,
                      cache: dict[str, np.ndarray]) -> list[tuple[str, float, str] | None]:
    """The classifier's answer per account, its probabilities narrowed by type, number range and side."""
    classifier = mapper.classifier
    if classifier is None or not accounts:
        return [None] * len(accounts)
    missing = sorted({a.name for a in accounts if a.name not in cache})
    if missing:
        for name, row in zip(missing, classifier.probabilities(missing), strict=True):
            cache[name] = row
    from auditray.tb.classifier import top_and_margin

    classes = np.array(classifier.classes)
    chart = standard_chart()
    sides = np.array([chart[c].sign for c in classes])
    class_of = np.array([chart[c].account_class for c in classes])
    proba = np.vstack([cache[a.name] for a in accounts])
    notes: list[list[str]] = [[] for _ in accounts]
    type_masks: dict[str, np.ndarray] = {}
    for i, account in enumerate(accounts):
        allowed = account_type_hint(account.account_type)
        if allowed:
            if account.account_type not in type_masks:
                type_masks[account.account_type] = np.where(np.isin(classes, list(allowed)), 1.0, MODEL_TYPE_FACTOR)
            proba[i] *= type_masks[account.account_type]
            notes[i].append(f"type {account.account_type}")
        number_class = family.class_of(account.number) if family else None
        if number_class:
            proba[i] *= np.where(class_of == number_class, 1.0, MODEL_NUMBER_FACTOR)
            notes[i].append(f"{family.name} range: {number_class}")
    signs = np.array([a.sign for a in accounts])
    side_factor = np.where((signs[:, None] == 0) | (sides[None, :] == signs[:, None]), 1.0, MODEL_SIDE_FACTOR)
    proba = proba * side_factor
    proba /= proba.sum(axis=1, keepdims=True)
    top, margin = top_and_margin(proba)
    confidence = classifier.calibrated(top, margin)
    best = proba.argmax(axis=1)
    return [
        (str(classes[best[i]]), float(confidence[i]),
         f"classifier p={top[i]:.2f}" + (f" ({'; '.join(notes[i])})" if notes[i] else ""))
        for i in range(len(accounts))
    ]


def _number_line_match(account: _Account, family: NumberingFamily | None) -> RuleMatch | None:
    line = family.line_of(account.number) if family else None
    if line is None:
        return None
    return RuleMatch(f"{family.name} {line.prefix}", line.answer(account.sign), None, NUMBER_LINE_CONFIDENCE,
                     line.two_sided and account.sign != 0, (line.debit_fsli, line.credit_fsli))


def _rule_candidate(account: _Account, family: NumberingFamily | None,
                    model: tuple[str, float, str] | None) -> tuple[str, str | None, float, str] | None:
    match = account.rule
    number_line = _number_line_match(account, family)
    if number_line is not None:
        if match is not None and match.fsli in number_line.alternatives and match.fsli != number_line.fsli:
            # A two-sided prefix (PCG 46 "divers") and a name that says which side: the name decides.
            number_line = RuleMatch(number_line.rule_id, match.fsli, None, number_line.confidence, True,
                                    number_line.alternatives)
        if match is None or _class_of(match.fsli) != _class_of(number_line.fsli):
            # A statutory number outranks a name rule that puts the account in another class.
            note = f"; name rule {match.rule_id} said {match.fsli}" if match is not None else ""
            confidence = number_line.confidence * (NAME_DISAGREES if match is not None else 1.0)
            reason = f"number rule {number_line.rule_id}{note}"
            if model is not None and model[0] == number_line.fsli:
                confidence = 1 - (1 - confidence) * (1 - model[1])
                reason += "; classifier agrees"
            return number_line.fsli, None, confidence, reason
        if match.fsli == number_line.fsli:
            match = RuleMatch(match.rule_id, match.fsli, match.sub_line,
                              1 - (1 - match.confidence) * (1 - number_line.confidence), match.side_decided,
                              match.alternatives)
    if match is None:
        return None
    number_class = family.class_of(account.number) if family else None
    if not account.sign and number_class and len(match.alternatives) > 1 and _class_of(match.fsli) != number_class:
        # A two-sided name ("Suspense") with no balance to go by: the number range picks the side.
        for alternative in match.alternatives:
            if _class_of(alternative) == number_class:
                match = RuleMatch(match.rule_id, alternative, None, match.confidence, True, match.alternatives)
                break
    confidence = match.confidence
    notes = [f"rule {match.rule_id}"]
    allowed = account_type_hint(account.account_type)
    if allowed and match.fsli not in allowed:
        confidence *= TYPE_CONFLICT
        notes.append(f"type {account.account_type} disagrees")
    if number_class and number_class != _class_of(match.fsli):
        confidence *= NUMBER_CONFLICT
        notes.append(f"{family.name} range says {number_class}")
    if account.sign and not match.side_decided and account.sign != _side_of(match.fsli, match.sub_line):
        confidence *= SIDE_CONFLICT
        notes.append("balance on the unusual side")
    if match.side_decided:
        notes.append("side chosen by the balance" if account.sign else f"side chosen by the {family.name} range")
    if model is not None and model[0] == match.fsli:
        confidence = 1 - (1 - confidence) * (1 - model[1])
        notes.append("classifier agrees")
    return match.fsli, match.sub_line, confidence, "; ".join(notes)


def _decide(mapper: AccountMapper, account: _Account, family: NumberingFamily | None,
            model: tuple[str, float, str] | None) -> dict[str, Any]:
    override = mapper.overrides.get(account.number)
    if override is not None:
        reason = f"override by {override.set_by or 'auditor'}" + (f": {override.reason}" if override.reason else "")
        return _row(override.fsli, None, 1.0, "override", reason, mapper.threshold)
    candidates: list[tuple[str, str | None, float, str, str]] = []
    prior = _prior_candidate(mapper, account)
    if prior is not None:
        candidates.append((prior[0], None, prior[1], "prior_period", prior[2]))
    rule = _rule_candidate(account, family, model)
    if rule is not None:
        candidates.append((rule[0], rule[1], rule[2], "rule", rule[3]))
    if model is not None:
        candidates.append((model[0], None, model[1], "model", model[2]))
    for fsli, sub_line, confidence, source, reason in candidates:
        if confidence >= mapper.threshold:
            return _row(fsli, sub_line, confidence, source, reason, mapper.threshold)
    if not candidates:
        return _row(None, None, 0.0, None, "no rule matched and no classifier", mapper.threshold)
    # The suggestion: a candidate the client's own account type allows, the most confident of those.
    allowed = account_type_hint(account.account_type)
    fsli, sub_line, confidence, source, reason = max(
        candidates, key=lambda c: (allowed is None or c[0] in allowed, c[2]))
    return _row(fsli, sub_line, confidence, source, reason, mapper.threshold)


def _row(fsli: str | None, sub_line: str | None, confidence: float, source: str | None, reason: str,
         threshold: float) -> dict[str, Any]:
    automatic = fsli is not None and confidence >= threshold
    return {
        "fsli": fsli if automatic else None,
        "sub_line": sub_line if automatic else None,
        "suggested_fsli": fsli,
        "confidence": round(float(confidence), 6),
        "mapping_source": source,
        "mapping_reason": reason,
        "needs_review": not automatic,
        "account_class": _class_of(fsli) if fsli else None,
    }


def _match_rules(rules: RuleSet, normalized: str, sign: int) -> RuleMatch | None:
    """Rules read the account's nature: a trailing department ("- sales", ": R&D") is tried without first."""
    if not normalized:
        return None
    base = strip_department(normalized)
    match = rules.match(base, sign)
    if match is None and base != normalized:
        match = rules.match(normalized, sign)
    return match


def _account_types(tb: pl.DataFrame, chart: pl.DataFrame | None) -> pl.DataFrame:
    if "account_type" in tb.columns:
        return tb.with_columns(pl.col("account_type").cast(pl.String).alias("__type"))
    if chart is not None and "account_type" in chart.columns:
        types = chart.select(
            pl.col("entity_id").cast(pl.String), pl.col("gl_account_number").cast(pl.String),
            pl.col("account_type").cast(pl.String).alias("__type"),
        ).unique(subset=["entity_id", "gl_account_number"], keep="first")
        return tb.join(types, on=["entity_id", "gl_account_number"], how="left")
    return tb.with_columns(pl.lit(None, dtype=pl.String).alias("__type"))


def map_trial_balance(
    tb: pl.DataFrame,
    mapper: AccountMapper,
    *,
    chart: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The trial balance with its mapping columns (``MAPPED_COLUMNS``), row order kept.

    ``tb`` is canonical trial-balance rows (``auditray.contract.TRIAL_BALANCE``), any number of entities
    and periods; each (entity, fiscal year, period) is mapped on its own, so the chart layout detected
    for one entity never leaks into another. ``chart`` is the client's chart of accounts: its
    ``account_type`` narrows the candidates.
    """
    missing = {"entity_id", "gl_account_number", "closing_balance"} - set(tb.columns)
    if missing:
        raise ValueError(f"the trial balance lacks column(s) {', '.join(sorted(missing))}")
    frame = tb.with_row_index("__row")
    for key in TB_KEYS:
        if key not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.Int64).alias(key))
    if "gl_account_name" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("gl_account_name"))
    if "opening_balance" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Decimal(18, 2)).alias("opening_balance"))
    frame = _account_types(frame, chart)
    rule_cache: dict[tuple[str, int], RuleMatch | None] = {}
    model_cache: dict[str, np.ndarray] = {}
    results: list[dict[str, Any]] = []
    for _, part in frame.group_by(list(TB_KEYS), maintain_order=True):
        accounts = []
        for row in part.select("entity_id", "gl_account_number", "gl_account_name", "closing_balance",
                               "opening_balance", "__type").iter_rows():
            entity_id, number, name, closing, opening, account_type = row
            normalized = normalize_account_name(name)
            account = _Account(str(entity_id), str(number), name or "", normalized,
                               _balance_sign(closing, opening), account_type)
            key = (normalized, account.sign)
            if key not in rule_cache:
                rule_cache[key] = _match_rules(mapper.rules, normalized, account.sign)
            account.rule = rule_cache[key]
            accounts.append(account)
        family = _family_for(mapper, accounts)
        models = _model_candidates(mapper, accounts, family, model_cache)
        for row_number, account, model in zip(part["__row"].to_list(), accounts, models, strict=True):
            decision = _decide(mapper, account, family, model)
            decision["numbering"] = family.name if family else None
            decision["__row"] = row_number
            results.append(decision)
    decided = pl.DataFrame(results, schema={**MAPPED_COLUMNS, "__row": pl.UInt32()})
    out = frame.join(decided, on="__row", how="left").sort("__row")
    drop = ["__row", "__type"] + [k for k in TB_KEYS if k not in tb.columns]
    if "gl_account_name" not in tb.columns:
        drop.append("gl_account_name")
    if "opening_balance" not in tb.columns:
        drop.append("opening_balance")
    return out.drop(drop)


def mapping_summary(mapped: pl.DataFrame) -> dict[str, Any]:
    """Counts a run's audit event records: rows, automatic, to review, by source."""
    by_source = {source: 0 for source in MAPPING_SOURCES}
    for source, count in mapped.filter(~pl.col("needs_review")).group_by("mapping_source").len().iter_rows():
        by_source[source] = int(count)
    review = int(mapped["needs_review"].sum())
    return {
        "accounts": mapped.height,
        "mapped": mapped.height - review,
        "needs_review": review,
        "by_source": by_source,
        "entities": sorted(str(e) for e in mapped["entity_id"].unique().to_list()),
    }


def mapping_hash(mapped: pl.DataFrame) -> str:
    """SHA-256 of the mapping decisions in a canonical text form (stable across library versions)."""
    cols = ["entity_id", "fiscal_year", "period", "gl_account_number", "fsli", "suggested_fsli",
            "confidence", "mapping_source", "needs_review"]
    present = [c for c in cols if c in mapped.columns]
    ordered = mapped.select(present).sort([c for c in ("entity_id", "fiscal_year", "period",
                                                       "gl_account_number") if c in present])
    digest = hashlib.sha256()
    for row in ordered.iter_rows():
        digest.update(json.dumps([None if v is None else (round(v, 6) if isinstance(v, float) else str(v))
                                  for v in row], separators=(",", ":")).encode())
        digest.update(b"\n")
    return digest.hexdigest()

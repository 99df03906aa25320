"""Trial-balance normalization: map a client's accounts to a standard chart, reconcile, draft statements.

- ``standard_chart``: class -> financial-statement line item -> sub-line, normal sides, US GAAP concepts.
- ``mapping``: ``AccountMapper`` and ``map_trial_balance``: overrides, prior period, rules, classifier;
  below the threshold an account goes to review (``needs_review``) with a ``suggested_fsli``.
- ``rules`` / ``classifier`` / ``labelled`` / ``evaluate``: the layers, the labelled names and the
  held-back evaluation.
- ``checks``: the TB balances; TB-to-GL roll-forward with every difference listed.
- ``statements`` / ``ratios`` / ``fluctuations``: lead schedules, draft balance sheet and income
  statement, key ratios, period-over-period fluctuations above amount and percentage thresholds.
- ``parallel``: many trial balances on the local engine or Ray Data, same result.
- ``service``: a client's mapping run with the store (overrides, prior period, audit trail).

>>> from auditray.tb import AccountMapper, load_classifier, map_trial_balance  # doctest: +SKIP
>>> mapped = map_trial_balance(tb, AccountMapper(classifier=load_classifier()))  # doctest: +SKIP
"""

from auditray.tb.checks import Reconciliation, reconcile_to_gl, trial_balance_totals
from auditray.tb.classifier import AccountClassifier, load_classifier, train_classifier
from auditray.tb.fluctuations import FluxThresholds, fluctuations
from auditray.tb.mapping import (
    DEFAULT_THRESHOLD,
    MAPPING_SOURCES,
    AccountMapper,
    Override,
    PriorMapping,
    map_trial_balance,
    mapping_hash,
    mapping_summary,
)
from auditray.tb.parallel import normalize_trial_balances
from auditray.tb.ratios import key_ratios
from auditray.tb.rules import RuleSet, default_rules, load_rules
from auditray.tb.standard_chart import REQUIRED_CODES, LineItem, standard_chart
from auditray.tb.statements import balance_sheet, income_statement, lead_schedules

__all__ = [
    "DEFAULT_THRESHOLD",
    "MAPPING_SOURCES",
    "REQUIRED_CODES",
    "AccountClassifier",
    "AccountMapper",
    "FluxThresholds",
    "LineItem",
    "Override",
    "PriorMapping",
    "Reconciliation",
    "RuleSet",
    "balance_sheet",
    "default_rules",
    "fluctuations",
    "income_statement",
    "key_ratios",
    "lead_schedules",
    "load_classifier",
    "load_rules",
    "map_trial_balance",
    "mapping_hash",
    "mapping_summary",
    "normalize_trial_balances",
    "reconcile_to_gl",
    "standard_chart",
    "train_classifier",
    "trial_balance_totals",
]

"""Seeded synthetic audit engagements: ledgers, trial balances and labelled anomalies.

The data journal-entry tests, trial-balance normalisation and sampling are developed and
demonstrated on. Same seed and parameters give byte-identical files::

    from auditray.generate import GeneratorConfig, generate_engagement

    result = generate_engagement(GeneratorConfig(seed=7, n_lines=200_000), "data/demo")
    print(result.summary())
"""

from auditray.generate.calendar import FiscalCalendar, us_federal_holidays, us_federal_holidays_named
from auditray.generate.config import (
    ANOMALY_KINDS,
    EXPORT_FORMATS,
    GENERATOR_VERSION,
    GeneratedEngagement,
    GeneratorConfig,
)
from auditray.generate.engagement import generate_engagement
from auditray.generate.templates import SUSPICIOUS_KEYWORDS

__all__ = [
    "ANOMALY_KINDS",
    "EXPORT_FORMATS",
    "GENERATOR_VERSION",
    "SUSPICIOUS_KEYWORDS",
    "FiscalCalendar",
    "GeneratedEngagement",
    "GeneratorConfig",
    "generate_engagement",
    "us_federal_holidays",
    "us_federal_holidays_named",
]

"""Audit sampling that reproduces the AICPA Audit Guide *Audit Sampling* to the unit.

- ``attribute``: tests of controls: sample sizes (Appendix A, Tables A-1/A-2) and upper deviation
  rates (Tables A-3/A-4).
- ``mus``: monetary-unit sampling: confidence and expansion factors, sample sizes (Appendix C,
  Table C-1 method, or the textbook formula) and the Stringer-bound evaluation.
- ``tables``: the guide's tables regenerated from the rules above.
- ``selection`` / ``select``: random, systematic, monetary-unit, stratified and risk-based selection,
  reproducible (seeded SHA-256 draws, population fingerprint) and documented; ``distributed``: MUS on
  a Ray cluster; ``record``: a selection stored with its run.

This package's top level and the arithmetic modules import nothing heavy (no polars, pyarrow or
Ray), so the sample-size and evaluation commands answer at once.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

from auditray.sampling.attribute import (
    AttributeEvaluation,
    AttributeSamplePlan,
    attribute_sample_size,
    evaluate_attribute_sample,
    upper_deviation_rate,
)
from auditray.sampling.errors import PopulationError, SamplingInputError
from auditray.sampling.mus import (
    Misstatement,
    MUSEvaluation,
    MUSSamplePlan,
    confidence_factor,
    evaluate_mus_sample,
    expansion_factor,
    mus_sample_size,
    read_misstatements,
)


def json_ready(value: Any) -> Any:
    """Decimals and fractions as JSON numbers, exactly: an int when whole, else the shortest float
    that prints the same digits (any amount of up to 15 significant digits); longer ones as text."""
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else str(value)
    return value


__all__ = [
    "AttributeEvaluation",
    "AttributeSamplePlan",
    "MUSEvaluation",
    "MUSSamplePlan",
    "Misstatement",
    "PopulationError",
    "SamplingInputError",
    "attribute_sample_size",
    "confidence_factor",
    "evaluate_attribute_sample",
    "evaluate_mus_sample",
    "expansion_factor",
    "json_ready",
    "mus_sample_size",
    "read_misstatements",
    "upper_deviation_rate",
]

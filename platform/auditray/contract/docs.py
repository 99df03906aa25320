"""Renders the data contract as Markdown; ``CONTRACT.md`` is this output, checked by a test."""

from __future__ import annotations

from auditray.contract.schemas import KINDS, MONEY, SCHEMA_VERSION, TableContract

PREAMBLE = f"""# Auditray data contract, version {SCHEMA_VERSION}

Every dataset Auditray registers is Parquet in one of the schemas below, whatever the client's
export looked like. The schemas follow the AICPA Audit Data Standards (ADS) in snake_case; the
ADS column shows the standard's name, which ingestion also recognises as a header.

Conventions:
- Money is `{MONEY}`: exact decimals, never floats, so sums of millions of amounts agree to the
  cent. Amounts are signed in the functional currency: debits positive, credits negative (ADS
  `Amount` combined with `Amount_Credit_Debit_Indicator`). More than two decimal places is a
  validation error, never a silent rounding.
- Dates are calendar dates without a time zone; `entry_time` is the local time of day.
- Required fields must be present and non-null in every row; the key identifies a row and must
  be unique within a dataset.
- The schema version travels in each Parquet file's metadata (`auditray.schema_version`) and in
  the dataset's registration; a breaking change bumps the major version.

Regenerate this file with `auditray contract --markdown > platform/auditray/contract/CONTRACT.md`.
"""


def render_table(contract: TableContract) -> str:
    lines = [
        f"## `{contract.kind}` (ADS {contract.ads_table})",
        "",
        contract.doc,
        "",
        f"Key: {', '.join(f'`{k}`' for k in contract.key)}",
        "",
        "| field | type | required | ADS name | meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    for f in contract.fields:
        lines.append(
            f"| `{f.name}` | `{f.type}` | {'yes' if f.required else 'no'} | `{f.ads_name}` | {f.doc} |"
        )
    return "\n".join(lines) + "\n"


def render_markdown() -> str:
    """The whole contract document."""
    return PREAMBLE + "\n" + "\n".join(render_table(c) for c in KINDS.values())

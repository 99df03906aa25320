"""Column-mapping files: the auditor says which column is which when no profile fits.

A mapping is YAML, JSON or TOML. ``columns`` maps canonical field -> source column; money may come
as ``amount`` alone (signed), with ``amount_indicator`` (unsigned plus debit/credit indicator), or as
``amount_debit`` and ``amount_credit`` (trial balances: ``closing_balance_*``, ``opening_balance_*``).
Without ``columns`` the headers are recognised automatically and only the options apply.

.. code-block:: yaml

    kind: gl_detail
    columns:
      journal_id: Beleg
      effective_date: Buchungsdatum
      gl_account_number: Konto
      amount: Betrag
      amount_indicator: S/H
    indicator_values: {debit: [S], credit: [H]}
    date_format: "%d.%m.%Y"          # or date_formats: {entry_date: "%d.%m.%Y %H:%M"}
    decimal_comma: true
    entity_id: DE01                  # or constants: {entity_id: DE01, fiscal_year: 2024}
    sheet: Buchungen                 # Excel only
    delimiter: ";"                   # CSV only
    encoding: cp1252                 # CSV only
    header_row: 3                    # 1-based row holding the headers, if not found automatically
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from auditray.contract import KINDS, contract_for
from auditray.ingest.headers import DateOrder, companion_fields

_KEYS = {
    "kind", "columns", "entity_id", "constants", "date_format", "date_formats", "date_order",
    "decimal_comma", "indicator_values", "sheet", "delimiter", "encoding", "header_row", "profile",
}


class MappingError(ValueError):
    """The mapping file itself is wrong (unknown field, bad option), before any data is read."""


@dataclass(frozen=True)
class ColumnMapping:
    """A parsed mapping file; every option is optional."""

    columns: dict[str, str] = field(default_factory=dict)
    kind: str | None = None
    constants: dict[str, str] = field(default_factory=dict)
    date_formats: dict[str, str] = field(default_factory=dict)
    date_format: str | None = None
    date_order: DateOrder | None = None
    decimal_comma: bool | None = None
    debit_values: tuple[str, ...] = ()
    credit_values: tuple[str, ...] = ()
    sheet: str | None = None
    delimiter: str | None = None
    encoding: str | None = None
    header_row: int | None = None
    profile: str | None = None
    origin: str = "mapping"

    def check_fields(self, kind: str) -> None:
        """Refuse fields the contract of ``kind`` does not have, naming the ones it does."""
        contract = contract_for(kind)
        allowed = set(contract.names) | set(companion_fields(kind))
        for name in [*self.columns, *self.constants, *self.date_formats]:
            if name not in allowed:
                raise MappingError(
                    f"{self.origin}: {name!r} is not a field of {kind}; expected one of "
                    f"{', '.join(sorted(allowed))}"
                )
        if self.kind is not None and self.kind != kind:
            raise MappingError(f"{self.origin} is for {self.kind}, not {kind}")


def load_mapping(source: str | Path | Mapping[str, Any] | ColumnMapping) -> ColumnMapping:
    """Read a mapping from a ``.yaml``/``.yml``, ``.json`` or ``.toml`` file, or take a dict as is."""
    if isinstance(source, ColumnMapping):
        return source
    if isinstance(source, Mapping):
        return mapping_from_dict(source, origin="mapping")
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError(f"cannot read mapping file {path}: {exc.strerror or exc}") from None
    suffix = path.suffix.lower()
    try:
        if suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text)
        elif suffix == ".json":
            data = json.loads(text)
        elif suffix == ".toml":
            data = tomllib.loads(text)
        else:
            raise MappingError(f"{path.name}: mapping files must end in .yaml, .yml, .json or .toml")
    except (yaml.YAMLError, json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise MappingError(f"{path.name} is not valid {suffix[1:].upper()}: {exc}") from None
    if not isinstance(data, Mapping):
        raise MappingError(f"{path.name}: expected a mapping of options at the top level")
    return mapping_from_dict(data, origin=path.name)


def mapping_from_dict(data: Mapping[str, Any], *, origin: str) -> ColumnMapping:
    """Validate the options and normalise their spellings."""
    unknown = set(data) - _KEYS
    if unknown:
        raise MappingError(f"{origin}: unknown option(s) {', '.join(sorted(unknown))}; "
                           f"expected some of {', '.join(sorted(_KEYS))}")
    kind = data.get("kind")
    if kind is not None and kind not in KINDS:
        raise MappingError(f"{origin}: kind {kind!r} is not one of {', '.join(KINDS)}")
    constants = {k: _text(v) for k, v in _table(data, "constants", origin).items()}
    if data.get("entity_id") is not None:
        constants["entity_id"] = _text(data["entity_id"])
    indicator = _table(data, "indicator_values", origin)
    if set(indicator) - {"debit", "credit"}:
        raise MappingError(f"{origin}: indicator_values takes 'debit' and 'credit' lists")
    date_order = data.get("date_order")
    if date_order not in (None, "us", "eu"):
        raise MappingError(f"{origin}: date_order must be 'us' (month first) or 'eu' (day first)")
    header_row = data.get("header_row")
    if header_row is not None and (not isinstance(header_row, int) or header_row < 1):
        raise MappingError(f"{origin}: header_row is the 1-based row number of the headers")
    decimal_comma = data.get("decimal_comma")
    if decimal_comma is not None and not isinstance(decimal_comma, bool):
        raise MappingError(f"{origin}: decimal_comma must be true or false")
    return ColumnMapping(
        columns={k: _text(v) for k, v in _table(data, "columns", origin).items()},
        kind=kind,
        constants=constants,
        date_formats={k: _text(v) for k, v in _table(data, "date_formats", origin).items()},
        date_format=data.get("date_format"),
        date_order=date_order,
        decimal_comma=decimal_comma,
        debit_values=_values(indicator.get("debit")),
        credit_values=_values(indicator.get("credit")),
        sheet=data.get("sheet"),
        delimiter=_delimiter(data.get("delimiter"), origin),
        encoding=data.get("encoding"),
        header_row=header_row,
        profile=data.get("profile"),
        origin=origin,
    )


def _table(data: Mapping[str, Any], key: str, origin: str) -> Mapping[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, Mapping):
        raise MappingError(f"{origin}: {key} must be a table of name: value")
    return value


def _text(value: Any) -> str:
    return str(value).strip()


def _values(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list | tuple) else [value]
    return tuple(str(v).strip() for v in items)


def _delimiter(value: Any, origin: str) -> str | None:
    if value is None:
        return None
    value = {"\\t": "\t", "tab": "\t"}.get(value, value)
    if not isinstance(value, str) or len(value) != 1:
        raise MappingError(f"{origin}: delimiter must be a single character (or 'tab')")
    return value

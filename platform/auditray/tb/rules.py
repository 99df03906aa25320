"""Rule layer: keyword patterns and account-number ranges, loadable per client or industry.

A rule set is an ordered list of keyword rules (first match wins, so specific rules come first) plus the
number-range families of ``data/rules/numbering.yaml``. Client and industry rule files are YAML in the
same format as ``data/rules/default.yaml``; ``load_rules(client_file, industry_file)`` puts their rules
before the default ones, so a client's own convention ("6800 Fremdleistungen is R&D here") wins over the
general one. Every answer carries the rule's id, which the mapped trial balance records as the reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from auditray.tb.names import leading_number, number_key
from auditray.tb.standard_chart import CLASSES, standard_chart

DEFAULT_RULES = "default.yaml"
NUMBERING = "numbering.yaml"


class RuleError(ValueError):
    """A rule file is malformed: names the file, the rule and what is wrong."""


@dataclass(frozen=True)
class RuleMatch:
    """What a keyword rule says about one account."""

    rule_id: str
    fsli: str
    sub_line: str | None
    confidence: float
    # True when the balance side chose between the rule's debit and credit answers.
    side_decided: bool = False
    # The rule's answers for either side, for a two-sided name whose balance says nothing.
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True)
class KeywordRule:
    rule_id: str
    fsli: str
    confidence: float
    patterns: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...] = ()
    sub_line: str | None = None
    debit_fsli: str | None = None
    credit_fsli: str | None = None
    origin: str = DEFAULT_RULES

    def __post_init__(self) -> None:
        # One alternation per list: a search per rule instead of one per pattern (same matches).
        object.__setattr__(self, "_any", _alternation(self.patterns))
        object.__setattr__(self, "_unless", _alternation(self.unless))

    def matches(self, normalized_name: str) -> bool:
        if self._any is None or not self._any.search(normalized_name):
            return False
        return self._unless is None or not self._unless.search(normalized_name)

    def answer(self, balance_sign: int) -> RuleMatch:
        """The rule's line item for an account whose closing balance has ``balance_sign`` (+1 debit,
        -1 credit, 0 nil or unknown)."""
        fsli, decided = self.fsli, False
        if balance_sign > 0 and self.debit_fsli:
            fsli, decided = self.debit_fsli, True
        elif balance_sign < 0 and self.credit_fsli:
            fsli, decided = self.credit_fsli, True
        sub_line = self.sub_line if fsli == self.fsli and self.sub_line else None
        if sub_line is None and fsli != self.fsli:
            sub_line = _side_sub_line(fsli)
        alternatives = tuple(dict.fromkeys(c for c in (self.fsli, self.debit_fsli, self.credit_fsli) if c))
        return RuleMatch(self.rule_id, fsli, sub_line, self.confidence, decided, alternatives)


def _alternation(patterns: tuple[re.Pattern[str], ...]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{p.pattern})" for p in patterns), re.IGNORECASE)


def _side_sub_line(fsli: str) -> str | None:
    return {"other_current_liabilities": "suspense_credit", "other_income": "fx_gains"}.get(fsli)


@dataclass(frozen=True)
class NumberLine:
    """A statutory chart's answer for a number prefix: the line item, or one per balance side."""

    prefix: str
    debit_fsli: str
    credit_fsli: str

    def answer(self, balance_sign: int) -> str:
        return self.credit_fsli if balance_sign < 0 else self.debit_fsli

    @property
    def two_sided(self) -> bool:
        return self.debit_fsli != self.credit_fsli


@dataclass(frozen=True)
class NumberingFamily:
    """A chart family's number ranges -> account class, and (statutory charts) prefixes -> line item."""

    name: str
    title: str
    lengths: tuple[int, ...]
    ranges: tuple[tuple[int, int, str], ...]
    lines: tuple[NumberLine, ...] = ()

    def _digits(self, account_number: str | None) -> str | None:
        digits = leading_number(account_number)
        return digits if digits is not None and len(digits) in self.lengths else None

    def __post_init__(self) -> None:
        object.__setattr__(self, "_classes", {})

    def class_of(self, account_number: str | None) -> str | None:
        cache: dict = self._classes
        if account_number not in cache:
            if len(cache) > 200_000:
                cache.clear()
            cache[account_number] = self._class_of(account_number)
        return cache[account_number]

    def _class_of(self, account_number: str | None) -> str | None:
        digits = self._digits(account_number)
        if digits is None:
            return None
        key = number_key(digits)
        for low, high, account_class in self.ranges:
            if low <= key <= high:
                return account_class
        return None

    def line_of(self, account_number: str | None) -> NumberLine | None:
        """The longest prefix of the number that the family's statutory layout names, if any."""
        digits = self._digits(account_number)
        if digits is None:
            return None
        best = None
        for line in self.lines:
            if digits.startswith(line.prefix) and (best is None or len(line.prefix) > len(best.prefix)):
                best = line
        return best


@dataclass(frozen=True)
class RuleSet:
    """Keyword rules in priority order, and the numbering families to detect a chart's layout."""

    rules: tuple[KeywordRule, ...]
    families: tuple[NumberingFamily, ...] = ()
    sources: tuple[str, ...] = field(default=(DEFAULT_RULES,))

    def match(self, normalized_name: str, balance_sign: int = 0) -> RuleMatch | None:
        """The first rule that recognises the name, or None."""
        for rule in self.rules:
            if rule.matches(normalized_name):
                return rule.answer(balance_sign)
        return None

    def family(self, name: str) -> NumberingFamily:
        for family in self.families:
            if family.name == name:
                return family
        raise KeyError(f"no numbering family {name!r}; known: {', '.join(f.name for f in self.families)}")

    def fingerprint(self) -> str:
        """Identifies the rule set in a run's audit event (ids and sources, not the regexes)."""
        import hashlib

        text = "|".join(f"{r.origin}:{r.rule_id}:{r.fsli}:{r.confidence}" for r in self.rules)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _compile(pattern: Any, where: str) -> re.Pattern[str]:
    if not isinstance(pattern, str) or not pattern:
        raise RuleError(f"{where}: patterns must be non-empty strings, got {pattern!r}")
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as error:
        raise RuleError(f"{where}: pattern {pattern!r} is not a valid regular expression: {error}") from None


def _parse_rule(data: Any, index: int, origin: str) -> KeywordRule:
    where = f"{origin}, rule {index + 1}"
    if not isinstance(data, dict):
        raise RuleError(f"{where}: each rule is a mapping with id, fsli and any")
    rule_id = data.get("id") or f"rule_{index + 1}"
    where = f"{origin}, rule {rule_id!r}"
    unknown = set(data) - {"id", "fsli", "confidence", "any", "unless", "sub_line", "debit_fsli", "credit_fsli"}
    if unknown:
        raise RuleError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    chart = standard_chart()
    for key in ("fsli", "debit_fsli", "credit_fsli"):
        code = data.get(key)
        if key == "fsli" and not code:
            raise RuleError(f"{where}: fsli is required")
        if code and (code not in chart or not chart[code].is_line_item):
            raise RuleError(f"{where}: {key} {code!r} is not a line item of the standard chart")
    sub_line = data.get("sub_line")
    if sub_line and (sub_line not in chart or chart[sub_line].parent != data["fsli"]):
        raise RuleError(f"{where}: sub_line {sub_line!r} is not a sub-line of {data['fsli']!r}")
    confidence = data.get("confidence", 0.9)
    if not isinstance(confidence, (int, float)) or not 0 < float(confidence) <= 1:
        raise RuleError(f"{where}: confidence must be a number in (0, 1]")
    patterns = data.get("any")
    if isinstance(patterns, str):
        patterns = [patterns]
    if not patterns:
        raise RuleError(f"{where}: 'any' must list at least one pattern")
    unless = data.get("unless") or []
    if isinstance(unless, str):
        unless = [unless]
    return KeywordRule(
        rule_id=str(rule_id),
        fsli=data["fsli"],
        confidence=float(confidence),
        patterns=tuple(_compile(p, where) for p in patterns),
        unless=tuple(_compile(p, where) for p in unless),
        sub_line=sub_line,
        debit_fsli=data.get("debit_fsli"),
        credit_fsli=data.get("credit_fsli"),
        origin=origin,
    )


def parse_rules(text: str, origin: str) -> tuple[KeywordRule, ...]:
    """Keyword rules from the YAML text of a rule file."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise RuleError(f"{origin} is not valid YAML: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise RuleError(f"{origin}: expected a mapping with a 'rules' list")
    rules = tuple(_parse_rule(item, i, origin) for i, item in enumerate(data["rules"]))
    seen: set[str] = set()
    for rule in rules:
        if rule.rule_id in seen:
            raise RuleError(f"{origin}: rule id {rule.rule_id!r} appears twice")
        seen.add(rule.rule_id)
    return rules


def _parse_lines(name: str, spec: dict[str, Any], origin: str) -> tuple[NumberLine, ...]:
    chart = standard_chart()
    lines = []
    for prefix, answer in (spec or {}).items():
        codes = [answer] if isinstance(answer, str) else list(answer)
        if len(codes) not in (1, 2) or any(c not in chart or not chart[c].is_line_item for c in codes):
            raise RuleError(f"{origin}, family {name}, prefix {prefix}: {answer!r} is not a line item "
                            "(or a [debit, credit] pair of line items)")
        if not str(prefix).isdigit():
            raise RuleError(f"{origin}, family {name}: prefix {prefix!r} must be digits (quote it in YAML)")
        lines.append(NumberLine(str(prefix), codes[0], codes[-1]))
    return tuple(lines)


def _parse_families(text: str, origin: str) -> tuple[NumberingFamily, ...]:
    data = yaml.safe_load(text)
    all_lines = data.get("lines") or {}
    families = []
    for name, spec in (data.get("families") or {}).items():
        ranges = []
        for low, high, account_class in spec["ranges"]:
            if account_class not in CLASSES:
                raise RuleError(f"{origin}, family {name}: unknown class {account_class!r}")
            ranges.append((int(low), int(high), account_class))
        families.append(NumberingFamily(name, spec.get("title", name), tuple(spec["lengths"]), tuple(ranges),
                                        _parse_lines(name, all_lines.get(name), origin)))
    unknown = set(all_lines) - {f.name for f in families}
    if unknown:
        raise RuleError(f"{origin}: lines given for unknown families {sorted(unknown)}")
    return tuple(families)


def _data_text(name: str) -> str:
    return resources.files("auditray.tb").joinpath(f"data/rules/{name}").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def default_rules() -> RuleSet:
    """The shipped rules and numbering families."""
    return RuleSet(
        rules=parse_rules(_data_text(DEFAULT_RULES), DEFAULT_RULES),
        families=_parse_families(_data_text(NUMBERING), NUMBERING),
    )


def industry_rule_files() -> dict[str, Path]:
    """Rule sets shipped per industry (``data/rules/industry/<name>.yaml``)."""
    folder = resources.files("auditray.tb").joinpath("data/rules/industry")
    return {Path(entry.name).stem: Path(str(entry)) for entry in folder.iterdir() if entry.name.endswith(".yaml")}


def load_rules(*paths: str | Path, industry: str | None = None) -> RuleSet:
    """The default rule set with client/industry rule files in front of it.

    Files listed first win (pass the client's file before the industry's); ``industry`` names a shipped
    industry set (see ``industry_rule_files``), placed after the files given.
    """
    base = default_rules()
    extra: list[KeywordRule] = []
    sources: list[str] = []
    files = [Path(p) for p in paths]
    if industry:
        shipped = industry_rule_files()
        if industry not in shipped:
            raise RuleError(f"no industry rule set {industry!r}; shipped: {', '.join(sorted(shipped)) or 'none'}")
        files.append(shipped[industry])
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise RuleError(f"cannot read rule file {path}: {error.strerror or error}") from None
        extra.extend(parse_rules(text, path.name))
        sources.append(path.name)
    if not extra:
        return base
    return RuleSet(rules=(*extra, *base.rules), families=base.families, sources=(*sources, *base.sources))


def detect_family(
    rule_set: RuleSet,
    anchors: Iterable[tuple[str | None, str]],
    *,
    min_anchors: int = 4,
    min_agreement: float = 0.85,
) -> tuple[NumberingFamily | None, float, int]:
    """The numbering family whose ranges agree best with ``anchors`` (account number, known class).

    Returns (family or None, agreement, anchors covered). A family is adopted only when it covers at
    least ``min_anchors`` anchors and agrees on ``min_agreement`` of them: a wrong layout would feed wrong
    evidence into every account, so no family is better than a doubtful one.
    """
    pairs: Sequence[tuple[str | None, str]] = list(anchors)
    best: tuple[NumberingFamily | None, float, int] = (None, 0.0, 0)
    for family in rule_set.families:
        covered = agreed = 0
        for number, account_class in pairs:
            guess = family.class_of(number)
            if guess is None:
                continue
            covered += 1
            agreed += guess == account_class
        if covered < min_anchors:
            continue
        agreement = agreed / covered
        if agreement >= min_agreement and (agreement, covered) > (best[1], best[2]):
            best = (family, agreement, covered)
    return best

"""Selecting scenarios: lettuce's ``-t`` tags, cucumber tag expressions, ``-n`` names.

Called by ``session.py`` in the parent, after loading and before scheduling.

``-t`` values follow lettuce exactly: with no ``-t`` everything runs; a scenario runs if
any plain ``-t tag`` names one of its tags (an OR that wins over exclusions, as in
lettuce); otherwise every ``-t`` must hold: ``-t -tag`` excludes, ``~tag``/``-~tag`` are
fuzzy matches. A ``-t`` value with spaces, parentheses or ``and``/``or``/``not`` is a
cucumber tag expression (``-t "@smoke and not @slow"``); several expressions must all
hold.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence

from .errors import UsageError
from .messages import WorkItem

_EXPRESSION = re.compile(r"[()\s]|(^|\s)(and|or|not)(\s|$)", re.IGNORECASE)


def _fuzzy(tag: str, tags: Sequence[str]) -> bool:
    return any(difflib.SequenceMatcher(None, tag, t).ratio() > 0.8 for t in tags)


def _lettuce_matcher(values: Sequence[str]) -> Callable[[Sequence[str]], bool]:
    cleaned = [value.strip().strip("@") if not value.startswith("-") else value for value in values]
    positives = [v for v in cleaned if not v.startswith(("-", "~"))]

    def matches(tags: Sequence[str]) -> bool:
        if any(p in tags for p in positives):
            return True
        for value in cleaned:
            if value.startswith("-~"):
                if _fuzzy(value[2:].lstrip("@"), tags):
                    return False
            elif value.startswith("-"):
                if value[1:].lstrip("@") in tags:
                    return False
            elif value.startswith("~"):
                if not _fuzzy(value[1:].lstrip("@"), tags):
                    return False
            else:
                return False
        return True

    return matches


def _expression_matcher(text: str) -> Callable[[Sequence[str]], bool]:
    from cucumber_tag_expressions import parse
    from cucumber_tag_expressions.parser import TagExpressionError

    try:
        expression = parse(text)
    except TagExpressionError as error:
        raise UsageError(
            f"bad tag expression {text!r}: {error}",
            hint='Write e.g. -t "@smoke and not @slow", or lettuce style -t smoke -t -slow.',
        ) from None
    return lambda tags: expression.evaluate([f"@{tag}" for tag in tags])


def tag_matcher(values: Sequence[str]) -> Callable[[Sequence[str]], bool]:
    expressions = [v for v in values if _EXPRESSION.search(v.strip())]
    plain = [v for v in values if v not in expressions]
    for value in plain:
        if not value.strip().lstrip("-~@"):
            raise UsageError(f"empty tag in -t {value!r}", hint="Write -t smoke or -t -slow.")
    matchers = [_expression_matcher(v) for v in expressions]
    if plain:
        matchers.append(_lettuce_matcher(plain))
    return lambda tags: all(matcher(tags) for matcher in matchers)


def parse_indexes(text: str) -> set[int]:
    """lettuce's ``-s 1,3``: 1-based scenario positions within every feature file."""
    indexes: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or int(part) < 1:
            raise UsageError(
                f"-s {text!r}: {part!r} is not a scenario number",
                hint="Write 1-based positions within each feature, e.g. -s 1,3.",
            )
        indexes.add(int(part))
    return indexes


def _position_in_feature(items: Sequence[WorkItem]) -> dict[str, int]:
    """1-based position of each item's scenario in its feature (an outline counts once)."""
    positions: dict[str, int] = {}
    seen: dict[str, dict[int, int]] = {}
    for item in items:
        lines = seen.setdefault(item.feature.path, {})
        position = lines.setdefault(item.scenario_line, len(lines) + 1)
        positions[item.scenario_id] = position
    return positions


def select(
    items: Sequence[WorkItem],
    *,
    tags: Sequence[str] = (),
    names: Sequence[str] = (),
    indexes: set[int] | None = None,
) -> list[WorkItem]:
    selected = list(items)
    if indexes:
        positions = _position_in_feature(items)
        selected = [item for item in selected if positions[item.scenario_id] in indexes]
    if tags:
        matcher = tag_matcher(tags)
        selected = [item for item in selected if matcher(item.tags)]
    if names:
        patterns = []
        for name in names:
            try:
                patterns.append(re.compile(name))
            except re.error as error:
                raise UsageError(f"bad --name regex {name!r}: {error}") from None
        selected = [
            item
            for item in selected
            if any(p.search(item.name) or p.search(item.template_name) for p in patterns)
        ]
    return selected

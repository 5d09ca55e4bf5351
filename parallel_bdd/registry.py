"""Step definitions: the ``@step`` and ``@steps`` decorators and step matching.

User step files call ``step``/``steps`` at import; ``runner.py`` calls
``STEPS.find_match`` for every step it runs, and the dry run (``reporting/dry_run.py``) uses it to list
undefined and ambiguous steps. Imports nothing from cli or reporting.

Matching follows lettuce: ``re.search`` with ``re.IGNORECASE`` against the sentence as
written, keyword included (``"Given I have 3 apples"``). When a pattern does not match the
sentence, it is also tried against the text without the keyword, so ``^...$`` patterns
written for behave-style step text work too. Where lettuce let dictionary order pick
between overlapping patterns, pbdd decides by a fixed rule: the definition whose match
covers the most characters of the step wins; definitions tied for the most are a true
ambiguity and the step fails as *ambiguous*, naming every candidate.
"""

from __future__ import annotations

import os
import re
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import StepLoadError

StepFunction = Callable[..., Any]


def describe_location(function: Any) -> str:
    """``file:line`` of a function, the file relative to the current directory."""
    while hasattr(function, "__wrapped__"):  # functools.wraps chains, as inspect.unwrap
        function = function.__wrapped__
    code = getattr(function, "__code__", None) or getattr(
        getattr(function, "__func__", None), "__code__", None
    )
    if code is None:
        return repr(function)
    return f"{relative_path(code.co_filename)}:{code.co_firstlineno}"


def relative_path(path: str) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith(".." + os.sep) else relative


@dataclass(frozen=True)
class StepDefinition:
    pattern: str
    regex: re.Pattern[str]
    function: StepFunction
    location: str

    @property
    def file(self) -> str:
        return self.location.rpartition(":")[0] or self.location

    @property
    def line(self) -> int:
        tail = self.location.rpartition(":")[2]
        return int(tail) if tail.isdigit() else 0

    def describe(self) -> str:
        return f"{self.pattern!r}  # {self.location}"


@dataclass(frozen=True)
class StepMatch:
    definition: StepDefinition
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


class AmbiguousMatch(Exception):
    """Several definitions match one step equally well."""

    def __init__(self, sentence: str, candidates: list[StepDefinition]) -> None:
        self.sentence = sentence
        self.candidates = candidates
        lines = "\n".join(f"  {c.describe()}" for c in candidates)
        super().__init__(
            f'step "{sentence}" matches {len(candidates)} definitions equally well:\n{lines}\n'
            "Make one pattern more specific (anchor it with ^...$) or remove one."
        )


class StepRegistry:
    """Definitions keyed by pattern: registering the same pattern again replaces it (lettuce)."""

    def __init__(self) -> None:
        self._definitions: dict[str, StepDefinition] = {}
        self.replaced: list[tuple[StepDefinition, StepDefinition]] = []

    def __len__(self) -> int:
        return len(self._definitions)

    def definitions(self) -> list[StepDefinition]:
        return list(self._definitions.values())

    def add(self, pattern: str, function: StepFunction) -> StepFunction:
        location = describe_location(function)
        if not isinstance(pattern, str):
            raise StepLoadError(
                f"@step needs a regular expression string, got {pattern!r}", location=location
            )
        try:
            regex = re.compile(pattern, re.IGNORECASE)
        except re.error as error:
            raise StepLoadError(
                f"invalid regular expression in @step({pattern!r}): {error}",
                location=location,
                hint="Fix the pattern (escape literal brackets and parentheses with a backslash).",
            ) from None
        definition = StepDefinition(pattern, regex, function, location)
        old = self._definitions.get(pattern)
        if old is not None and old.location != location:
            self.replaced.append((old, definition))
        self._definitions[pattern] = definition
        return function

    def find_match(self, keyword: str, text: str) -> StepMatch | None:
        """The best definition for a step, None if undefined; raises AmbiguousMatch on a tie."""
        sentence = f"{keyword}{text}"
        best: list[tuple[StepDefinition, re.Match[str]]] = []
        best_cover = -1
        for definition in self._definitions.values():
            match = definition.regex.search(sentence)
            if match is None and keyword:
                match = definition.regex.search(text)
            if match is None:
                continue
            cover = match.end() - match.start()
            if cover > best_cover:
                best, best_cover = [(definition, match)], cover
            elif cover == best_cover:
                best.append((definition, match))
        if not best:
            return None
        if len(best) > 1:
            raise AmbiguousMatch(sentence.strip(), [definition for definition, _ in best])
        definition, match = best[0]
        named = match.groupdict()
        if named:
            return StepMatch(definition, (), named)
        return StepMatch(definition, match.groups(), {})

    def clear(self) -> None:
        self._definitions.clear()
        self.replaced.clear()


STEPS = StepRegistry()


def _pattern_from_function(function: StepFunction) -> str:
    doc = function.__doc__  # inspect is not imported here: every worker would pay for it
    if doc:
        return doc.strip()
    name = function.__name__.replace("_", " ")
    return name[:1].upper() + name[1:]


def step(pattern: str | StepFunction) -> Any:
    """Register a step definition: ``@step(r'I have (\\d+) apples')``.

    Bare ``@step`` takes the pattern from the docstring, or from the function name
    (``def given_i_am_here`` → ``Given i am here``), as lettuce does.
    """
    if callable(pattern):
        return STEPS.add(_pattern_from_function(pattern), pattern)

    def decorator(function: StepFunction) -> StepFunction:
        return STEPS.add(pattern, function)

    return decorator


def steps(cls: type) -> type:
    """Class decorator: every public method becomes a step when the class is instantiated.

    Names listed in the class attribute ``exclude`` are skipped. The pattern of each method
    is its docstring, or its name with underscores as spaces.
    """
    original_init = cls.__init__
    excluded = set(getattr(cls, "exclude", ()))

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        for name in dir(self):
            if name.startswith("_") or name in excluded:
                continue
            attribute = getattr(self, name)
            if isinstance(attribute, (types.MethodType, types.FunctionType)):
                STEPS.add(_pattern_from_function(attribute), attribute)

    cls.__init__ = __init__  # type: ignore[method-assign]
    return cls

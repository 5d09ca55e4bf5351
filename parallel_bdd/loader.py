"""Parse ``.feature`` files with gherkin-official into ``WorkItem`` records.

Called by ``session.py`` in the parent only: workers never parse features, they receive the
compiled scenarios as plain data. Imports nothing from cli, reporting or worker code.

Lettuce-only inputs that existing suites contain are accepted unchanged, each with one
warning per file so teams can migrate: step lines without a Given/When/Then keyword (run
as written, matched on the whole line), and what ``lettuce_dialect.py`` rewrites.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cache_records import BadEntry, items_from_json, items_to_json
from .errors import GherkinSyntaxError, SuiteError, UsageError
from .feature_compiler import KEYWORDLESS_MARK, FeatureCompiler
from .lettuce_dialect import (
    commented_feature_tags,
    file_language,
    rewrite_headings,
    rewrite_language,
    rewrite_table_rows,
)
from .messages import FeatureData, StepData, WorkItem, updated
from .parse_cache import ParseCache
from .registry import relative_path

CACHE_FORMAT = 9  # bump when the cached document's shape, or what a text parses to, changes
CACHE_DOCUMENT = "pbdd-parse-cache"
_DOCUMENT_KEYS = frozenset(
    {"format", "version", "key", "shown", "warnings", "scenario_lines", "line_count", "records"}
)


@dataclass
class FeatureTarget:
    """A path from the command line: a feature file, and the lines asked for (if any)."""

    path: Path
    lines: tuple[int, ...] = ()


@dataclass
class LoadedSuite:
    items: list[WorkItem] = field(default_factory=list)
    feature_files: list[Path] = field(default_factory=list)
    suite_dirs: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def resolve_paths(paths: Sequence[str]) -> tuple[list[FeatureTarget], list[Path]]:
    """Command-line paths → feature files (sorted, each once) and the suite directories."""
    targets: dict[Path, FeatureTarget] = {}
    suite_dirs: dict[Path, None] = {}
    for raw in paths or ("features",):
        path_text, lines = raw, ()
        match = re.fullmatch(r"(.+?\.feature)((?::\d+)+)", raw)
        if match:
            path_text = match.group(1)
            lines = tuple(int(n) for n in match.group(2).strip(":").split(":"))
        path = Path(path_text)
        if not path.exists():
            raise UsageError(
                f"no such file or directory: {raw!r}",
                hint="Give a directory of .feature files, a .feature file or file.feature:LINE.",
            )
        if path.is_dir():
            files = sorted(p for p in path.rglob("*.feature") if p.is_file())
            if not files:
                raise UsageError(
                    f"no .feature files under {raw!r}",
                    hint="Point pbdd at the directory that holds your .feature files.",
                )
            suite_dirs.setdefault(path.resolve(), None)
            for file in files:
                targets.setdefault(file.resolve(), FeatureTarget(file))
        elif path.suffix != ".feature":
            raise UsageError(
                f"{raw!r} is not a .feature file",
                hint="Give a directory, a .feature file or file.feature:LINE.",
            )
        else:
            suite_dirs.setdefault(path.parent.resolve(), None)
            key = path.resolve()
            existing = targets.get(key)
            if existing is not None and (not lines or not existing.lines):
                existing.lines = ()
            elif existing is not None:
                existing.lines = tuple(sorted(set(existing.lines + lines)))
            else:
                targets[key] = FeatureTarget(path, lines)
    ordered = sorted(targets.items(), key=lambda pair: str(pair[0]))
    return [target for _, target in ordered], list(suite_dirs)


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = path.read_bytes()[: error.start].count(b"\n") + 1
        raise SuiteError(
            "the file is not UTF-8 text",
            location=f"{relative_path(str(path))}:{line}",
            hint="Save the feature file as UTF-8.",
        ) from None


def _parse(path: Path, text: str, warnings: list[str]) -> dict[str, Any]:
    from gherkin.errors import CompositeParserException, ParserException
    from gherkin.parser import Parser

    shown = relative_path(str(path))
    lines = text.split("\n")
    warnings.extend(rewrite_language(lines, shown))
    warnings.extend(rewrite_headings(lines, shown))
    warnings.extend(rewrite_table_rows(lines, shown))
    warnings.extend(commented_feature_tags(lines, shown))
    keywordless: list[int] = []
    while True:
        try:
            document: dict[str, Any] = Parser().parse("\n".join(lines))
        except (CompositeParserException, ParserException) as error:
            errors = getattr(error, "errors", None) or [error]
            first = errors[0]
            location = getattr(first, "location", None) or {}
            line_no = int(location.get("line") or 0)
            message = str(first.args[0]) if first.args else str(first)
            message = re.sub(r"^\(\d+:\d+\): ", "", message)
            # A lettuce step line without a keyword: run it as written (once per line).
            if (
                "#StepLine" in message
                and "got '" in message
                and 0 < line_no <= len(lines)
                and line_no not in keywordless
                and len(keywordless) < 10_000
                and not _is_block_keyword_line(lines[line_no - 1], lines)
            ):
                _mark_keywordless(lines, line_no)
                keywordless.append(line_no)
                continue
            if "Language not supported" in message or "NoSuchLanguage" in type(first).__name__:
                raise GherkinSyntaxError(
                    message,
                    location=f"{shown}:{line_no or 1}",
                    hint="Use a language code gherkin knows, e.g. '# language: pt'.",
                ) from None
            raise GherkinSyntaxError(message, location=f"{shown}:{line_no}") from None
        described = _description_lines(document, lines)
        if not described:
            return document
        # lettuce has no scenario description: each of those lines is a step
        for line_no in described:
            _mark_keywordless(lines, line_no)


def _mark_keywordless(lines: list[str], line_no: int) -> None:
    """Line ``line_no`` (1-based) becomes a step with Gherkin's ``* `` keyword, in place;
    ``_parse_with_marks`` finds it again and gives it back its own words."""
    original = lines[line_no - 1]
    indent = original[: len(original) - len(original.lstrip())]
    lines[line_no - 1] = f"{indent}{KEYWORDLESS_MARK}{original.lstrip()}"


def _description_lines(document: dict[str, Any], lines: Sequence[str]) -> list[int]:
    """The lines Gherkin read as a scenario's or background's description (1-based).

    Lettuce read every line under a ``Scenario:`` or ``Background:`` line as a step, so a
    first step line without a keyword would otherwise vanish into a description silently.
    """
    found: list[int] = []
    for node in _scenario_nodes(document):
        wanted = sum(1 for text in node.get("description", "").split("\n") if text.strip())
        line_no = node["location"]["line"]
        while wanted and line_no < len(lines):
            line_no += 1
            text = lines[line_no - 1].strip()
            if text and not text.startswith("#"):
                found.append(line_no)
                wanted -= 1
    return found


def _is_block_keyword_line(line: str, lines: Sequence[str]) -> bool:
    """``Feature:``, ``Background:``, ``Scenario:``... in the file's language or English.

    Such a line in the wrong place is a real syntax error (a second Feature, a Background
    after the scenarios), never a keyword-less lettuce step.
    """
    from gherkin.dialect import Dialect

    language = file_language(lines)
    text = line.strip()
    for name in {language, "en"}:
        dialect = Dialect.for_name(name)
        if dialect is None:
            continue
        keywords = (
            dialect.feature_keywords
            + dialect.background_keywords
            + dialect.scenario_keywords
            + dialect.scenario_outline_keywords
            + dialect.examples_keywords
            + dialect.rule_keywords
        )
        if any(text.startswith(f"{keyword}:") for keyword in keywords):
            return True
    return False


@dataclass
class ParsedFeature:
    """One feature file, compiled: what the cache keeps between runs."""

    shown: str
    items: list[WorkItem]
    warnings: list[str]
    scenario_lines: list[int]
    line_count: int

    def to_json(self, key: str) -> dict[str, Any]:
        """The cache document for this file; ``key`` is written in so that an entry copied
        or linked under another file's name is not taken for that file."""
        return {
            "format": CACHE_DOCUMENT,
            "version": CACHE_FORMAT,
            "key": key,
            "shown": self.shown,
            "warnings": self.warnings,
            "scenario_lines": self.scenario_lines,
            "line_count": self.line_count,
            "records": items_to_json(self.items),
        }

    @classmethod
    def from_json(cls, document: Any, key: str) -> ParsedFeature | None:
        """The feature ``to_json(key)`` described; None for any other document."""
        if (
            type(document) is not dict
            or document.keys() != _DOCUMENT_KEYS
            or document["format"] != CACHE_DOCUMENT
            or document["version"] != CACHE_FORMAT
            or document["key"] != key
        ):
            return None
        try:
            warnings = document["warnings"]
            lines = document["scenario_lines"]
            line_count = document["line_count"]
            if (
                type(document["shown"]) is not str
                or type(warnings) is not list
                or any(type(warning) is not str for warning in warnings)
                or type(lines) is not list
                or any(type(line) is not int for line in lines)
                or type(line_count) is not int
            ):
                return None
            items = items_from_json(document["records"])
        except BadEntry:
            return None
        return cls(document["shown"], items, warnings, lines, line_count)

    def select_lines(self, lines: Sequence[int]) -> list[WorkItem]:
        """``file.feature:LINE``: the scenario at (or containing) each line, or one outline row."""
        chosen: dict[str, WorkItem] = {}
        starts = sorted(self.scenario_lines)
        for wanted in lines:
            hits = [item for item in self.items if item.is_outline_row and item.line == wanted]
            if not hits and 1 <= wanted <= self.line_count:
                owner = max((start for start in starts if start <= wanted), default=None)
                hits = [item for item in self.items if item.scenario_line == owner]
            if not hits:
                listing = ", ".join(str(start) for start in starts) or "none"
                raise UsageError(
                    f"{self.shown}:{wanted}: no scenario at line {wanted}",
                    hint=f"Scenarios in {self.shown} start at lines: {listing}.",
                )
            for item in hits:
                chosen.setdefault(item.scenario_id, item)
        return [item for item in self.items if item.scenario_id in chosen]


def load_features(paths: Sequence[str]) -> LoadedSuite:
    """Parse every feature the paths name; SuiteError/UsageError on the first bad one."""
    targets, suite_dirs = resolve_paths(paths)
    suite = LoadedSuite(suite_dirs=suite_dirs)
    cache = ParseCache.open()
    for target in targets:
        parsed = _load_cached(target.path, cache)
        suite.warnings.extend(parsed.warnings)
        suite.items.extend(parsed.select_lines(target.lines) if target.lines else parsed.items)
        suite.feature_files.append(target.path)
    suite.items = [
        item if item.order == index else updated(item, order=index)
        for index, item in enumerate(suite.items)
    ]
    if cache is not None:
        suite.warnings.extend(cache.warnings)
        cache.prune()
    return suite


@functools.cache
def _cache_salt() -> bytes:
    import importlib.util

    from . import __version__

    # The parser module's identity stands for its version (cheaper than package metadata),
    # found without importing gherkin: a run whose features are all cached never needs it.
    spec = importlib.util.find_spec("gherkin")
    origin = spec.origin if spec is not None and spec.origin else __file__
    parser_file = Path(origin).with_name("parser.py")
    if not parser_file.exists():
        parser_file = Path(origin)
    stat = parser_file.stat()
    gherkin_version = f"{parser_file}:{stat.st_size}:{stat.st_mtime_ns}"
    # the records' shape too, so a cache written by another build is never half-read
    shape = ",".join(
        name for record in (WorkItem, StepData, FeatureData) for name in record.__dataclass_fields__
    )
    return f"{CACHE_FORMAT}|{__version__}|{gherkin_version}|{shape}|".encode()


def cache_key(shown: str, text: str) -> str:
    """The cache file's name for a feature file's text shown at ``shown``."""
    digest = hashlib.sha256(_cache_salt())
    digest.update(shown.encode("utf-8") + b"\x00")
    digest.update(text.encode("utf-8"))
    return digest.hexdigest()


def _load_cached(path: Path, cache: ParseCache | None) -> ParsedFeature:
    """Compile a feature file, or take it from the cache when its text and path are unchanged.

    gherkin-official is the slowest part of loading a large suite, and most files do not
    change between runs; the cache is keyed by the file's content, its path as shown and
    the versions of pbdd and the parser, and any problem with it just means parsing again.
    """
    text = _read(path)
    shown = relative_path(str(path))
    if cache is None:
        return _compile_file(path, shown, text)
    key = cache_key(shown, text)
    cached = ParsedFeature.from_json(cache.read(key), key)
    if cached is not None:
        return cached
    parsed = _compile_file(path, shown, text)
    cache.write(key, parsed.to_json(key))
    return parsed


def _compile_file(path: Path, shown: str, text: str) -> ParsedFeature:
    warnings: list[str] = []
    document = _parse_with_marks(path, text, warnings)
    keywordless = document.pop("_pbdd_keywordless")
    if keywordless:
        first = sorted(keywordless)
        warnings.insert(
            0,
            f"{shown}:{first[0]}: {len(first)} step line(s) without a Given/When/Then keyword "
            f"(lines {', '.join(map(str, first[:8]))}{'...' if len(first) > 8 else ''}); "
            "run as written, but standard Gherkin needs a keyword, e.g. '* ' or 'Given '",
        )
    compiler = FeatureCompiler(path, document, keywordless)
    items = compiler.compile()
    if compiler.quoted_doc_strings:
        quoted = sorted(compiler.quoted_doc_strings)
        first, plain = compiler.quoted_doc_strings[quoted[0]]
        warnings.append(
            f"{shown}:{quoted[0]}: {len(quoted)} doc string(s) with every line quoted "
            f"(lines {', '.join(map(str, quoted[:8]))}{'...' if len(quoted) > 8 else ''}); "
            f"read as lettuce read them, {first.strip()!r} as {plain!r}, but standard Gherkin "
            "keeps the quotes: write the lines unquoted, indented as they should read"
        )
    if not items:
        # lettuce ran nothing of such a file either, but silently: a misspelt header
        # ("Scenarios:") makes the scenarios part of the feature's description
        warnings.append(
            f"{shown}: no scenario in this file; is a 'Scenario:' line misspelt? "
            "(text under 'Feature:' that no 'Scenario:' line starts is its description)"
        )
    return ParsedFeature(
        shown=shown,
        items=items,
        warnings=warnings,
        scenario_lines=list(compiler.scenario_lines),
        line_count=len(text.split("\n")),
    )


def _parse_with_marks(path: Path, text: str, warnings: list[str]) -> dict[str, Any]:
    """Parse, remembering which lines got a keyword so the compiler can restore them."""
    marked: list[int] = []
    original = text.split("\n")
    document = _parse(path, text, warnings)
    # _parse rewrote keyword-less lines to "* <line>"; find them by comparing the AST
    for step_line in _all_step_lines(document):
        line_no, keyword, text = step_line
        source = original[line_no - 1].strip() if 0 < line_no <= len(original) else ""
        if keyword == KEYWORDLESS_MARK and source == text and not source.startswith("*"):
            marked.append(line_no)
    document["_pbdd_keywordless"] = set(marked)
    return document


def _all_step_lines(document: dict[str, Any]) -> Iterable[tuple[int, str, str]]:
    for node in _scenario_nodes(document):
        for step_ast in node["steps"]:
            yield step_ast["location"]["line"], step_ast["keyword"], step_ast["text"]


def _scenario_nodes(document: dict[str, Any]) -> Iterable[dict[str, Any]]:
    """Every background and scenario (outline) of the parsed file, rules' included."""

    def walk(children: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
        for child in children:
            node = child.get("background") or child.get("scenario")
            if node:
                yield node
            elif "rule" in child:
                yield from walk(child["rule"].get("children", ()))

    feature = document.get("feature") or {}
    return walk(feature.get("children", ()))

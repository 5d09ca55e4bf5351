"""Lettuce-only spellings in ``.feature`` files, rewritten to Gherkin before parsing.

Called by ``loader.py`` (in the parent) on a file's lines before gherkin-official reads
them. Existing lettuce suites must run unchanged, so what lettuce accepted and Gherkin
reads differently is rewritten here, each kind with one warning per file where a standard
spelling exists. Imports nothing of pbdd.

* lettuce's language codes (``pt-br``, ``cz``...) become Gherkin's.
* lettuce's own heading words (``特性:`` in zh-CN, ``Funcionalidad:`` in es, ``Background:``
  in most non-English files...) where Gherkin's dialect of that language has another
  word: rewritten to Gherkin's word for the same heading.
* A table row without a closing ``|`` (``| name | value``): lettuce split the row on every
  ``|`` and kept the last cell; Gherkin drops the text after the last ``|``.
* Backslashes in table cells: lettuce knew one escape, ``\\|``; Gherkin also reads ``\\n``
  as a new line and ``\\\\`` as one backslash. Cells keep their backslashes as written, as
  lettuce kept them (suites compare against text like ``a\\nb``); no warning, as there is no
  other spelling to move to (README, "Differences from Gherkin").
* A tag in a comment above ``Feature:`` (``#@slow``): lettuce took the feature's tags from
  the first ``@`` in the file, comments included, so a commented-out tag still tagged the
  feature. It stays a comment here (Gherkin's reading, and what its author meant), with
  one warning per file, as ``-t slow`` selects differently than under lettuce.
* Quoted doc-string lines (``" from_email: x``): lettuce stripped every doc-string line and
  then one leading and one trailing ``"``, and suites quoted lines to keep their indentation
  (YAML mails). The content is only known once Gherkin has parsed the file, so
  ``loader.py``'s compiler calls :func:`unquote_doc_string` on each doc string.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

# lettuce's language codes that gherkin spells differently
LETTUCE_LANGUAGES = {"pt-br": "pt", "cz": "cs", "zh-cn": "zh-CN", "zh-tw": "zh-TW"}
LANGUAGE_LINE = re.compile(r"^\s*#\s*language\s*:\s*(\S+)\s*$", re.IGNORECASE)
# lettuce's heading words that Gherkin's dialect of the same language lacks (lettuce's
# lettuce/languages.py against gherkin-official), by Gherkin's language code and heading
LETTUCE_HEADINGS: dict[str, dict[str, tuple[str, ...]]] = {
    "pt": {"background": ("Considerações",)},
    "pl": {
        "examples": ("Przykład",),
        "scenario_outline": ("Zarys Scenariusza",),
        "background": ("Background",),
    },
    "ca": {"scenario_outline": ("Esquema d'Escenari",), "background": ("Background",)},
    "es": {
        "feature": ("Funcionalidad",),
        "scenario_outline": ("Esquema de Escenario",),
        "background": ("Contexto", "Consideraciones"),
    },
    "hu": {"background": ("Background",)},
    "fr": {
        "examples": ("Scénarios",),
        "feature": ("Fonction",),
        "scenario_outline": ("Plan de Scénario", "Plan du Scénario"),
        "background": ("Background",),
    },
    "de": {
        "examples": ("Szenarios",),
        "scenario_outline": ("Szenario-Zusammenfassung", "Zusammenfassung"),
        "background": ("Background",),
    },
    "ja": {"background": ("Background",)},
    "tr": {"scenario_outline": ("Senaryo Taslağı",), "background": ("Background",)},
    "zh-CN": {
        "examples": ("例如", "场景集"),
        "feature": ("特性",),
        "scenario_outline": ("场景模板",),
    },
    "zh-TW": {
        "examples": ("例如", "場景集"),
        "feature": ("特性",),
        "scenario_outline": ("場景模板",),
    },
    "ru": {"examples": ("Сценарии",), "background": ("Background",)},
    "uk": {"examples": ("Сценарії",), "background": ("Background",)},
    "it": {
        "examples": ("Scenari", "Scenarii"),
        "feature": ("Funzione",),
        "scenario_outline": ("Schema di Scenario", "Piano di Scenario"),
        "background": ("Background",),
    },
    "no": {
        "feature": ("Egenskaper",),
        "scenario": ("Situasjon",),
        "scenario_outline": ("Situasjon Oversikt",),
    },
    "sv": {
        "examples": ("Scenarion",),
        "feature": ("Egenskaper",),
        "scenario_outline": ("Scenarioöversikt",),
        "background": ("Context",),
    },
}
_CLOSED_ROW = re.compile(r"(?<!\\)\|\s*$")
_BACKSLASH_NOT_BEFORE_PIPE = re.compile(r"\\(?!\|)")
_DOC_STRING_FENCES = ('"""', "```")
_TAG_IN_COMMENT = re.compile(r"(?:^|[\s#])(@[^\s@#]+)")


def file_language(lines: Sequence[str]) -> str:
    """The Gherkin language code the file's ``# language:`` line names (``en`` if none)."""
    for line in lines[:20]:
        match = LANGUAGE_LINE.match(line)
        if match:
            return LETTUCE_LANGUAGES.get(match.group(1).lower(), match.group(1))
    return "en"


def rewrite_language(lines: list[str], shown: str) -> list[str]:
    """Turn a lettuce language code into Gherkin's, in place; the warnings."""
    for index, line in enumerate(lines[:20]):
        match = LANGUAGE_LINE.match(line)
        code = LETTUCE_LANGUAGES.get(match.group(1).lower(), "") if match else ""
        if match and code and code != match.group(1):  # zh-CN is Gherkin's spelling too
            lines[index] = f"# language: {code}"
            return [
                f"{shown}:{index + 1}: lettuce language code {match.group(1)!r} read as "
                f"{code!r}; write '# language: {code}'"
            ]
    return []


def rewrite_headings(lines: list[str], shown: str) -> list[str]:
    """Turn lettuce's heading words into Gherkin's, in place; the warnings."""
    language = file_language(lines)
    words = LETTUCE_HEADINGS.get(language)
    if not words:
        return []
    from gherkin.dialect import Dialect

    dialect = Dialect.for_name(language)
    replaced: list[tuple[int, str, str]] = []
    for index in _outside_doc_strings(lines):
        line = lines[index]
        text = line.strip()
        word, heading = _lettuce_heading(text, words)
        if not word:
            continue
        gherkin_words = [keyword.strip() for keyword in getattr(dialect, f"{heading}_keywords")]
        if word not in gherkin_words:  # "Senaryo taslağı:" is Gherkin's as well
            gherkin = gherkin_words[0]
            indent = line[: len(line) - len(line.lstrip())]
            lines[index] = f"{indent}{gherkin}{text[len(word) :]}"
            replaced.append((index + 1, word, gherkin))
    if not replaced:
        return []
    line_no, word, gherkin = replaced[0]
    listed = ", ".join(str(number) for number, _, _ in replaced[:8])
    return [
        f"{shown}:{line_no}: {len(replaced)} lettuce heading(s) that Gherkin's {language!r} "
        f"spells otherwise (lines {listed}{'...' if len(replaced) > 8 else ''}); read as "
        f"lettuce read them, {word + ':'!r} as {gherkin + ':'!r}: write Gherkin's words"
    ]


def _lettuce_heading(text: str, words: dict[str, tuple[str, ...]]) -> tuple[str, str]:
    """The lettuce heading word ``text`` starts with (as ``word:``) and its heading."""
    folded = text.casefold()
    for heading, candidates in words.items():
        for word in candidates:
            if folded.startswith(word.casefold() + ":"):
                return text[: len(word)], heading
    return "", ""


def commented_feature_tags(lines: Sequence[str], shown: str) -> list[str]:
    """A warning for the tags in comment lines above the feature's first line."""
    for index, line in enumerate(lines):
        text = line.strip()
        if text and not text.startswith(("#", "@")):
            return []  # the Feature line: no commented tag above it
        tags = _TAG_IN_COMMENT.findall(text) if text.startswith("#") else []
        if tags:
            return [
                f"{shown}:{index + 1}: {' '.join(tags)} in the comment {text!r} is not a "
                "tag of the feature (lettuce read it as one, so -t selects differently); "
                "remove the '#' to keep it as a tag, or the line to drop it"
            ]
    return []


def _outside_doc_strings(lines: Sequence[str]) -> Iterator[int]:
    """The indexes of the lines that are not in a doc string (nor its fences)."""
    fence = ""
    for index, line in enumerate(lines):
        text = line.strip()
        if fence:
            fence = "" if text.startswith(fence) else fence
        elif text.startswith(_DOC_STRING_FENCES):
            fence = text[:3]
        else:
            yield index


def rewrite_table_rows(lines: list[str], shown: str) -> list[str]:
    """Close unclosed table rows and keep cells' backslashes, in place; the warnings."""
    unclosed: list[int] = []
    for index in _outside_doc_strings(lines):
        line = lines[index]
        text = line.strip()
        if not text.startswith("|"):
            continue
        if "\\" in line:
            line = _BACKSLASH_NOT_BEFORE_PIPE.sub(r"\\\\", line)
        if not _CLOSED_ROW.search(line):
            line = line.rstrip() + " |"
            unclosed.append(index + 1)
        lines[index] = line
    if not unclosed:
        return []
    listed = ", ".join(map(str, unclosed[:8])) + ("..." if len(unclosed) > 8 else "")
    return [
        f"{shown}:{unclosed[0]}: {len(unclosed)} table row(s) without a closing '|' "
        f"(lines {listed}); read as lettuce read them, with the last cell kept, but standard "
        "Gherkin drops what follows the last '|': end each row with '|'"
    ]


def unquote_doc_string(content: str) -> str | None:
    """The doc string as lettuce read it when every non-blank line starts with ``"``, else None.

    Only that whole-block idiom is taken over: a doc string where some lines start with
    ``"`` (JSON, quoted prose) stays as Gherkin reads it. Blank lines stay blank.
    """
    lines = content.split("\n")
    written = [line.strip() for line in lines if line.strip()]
    if not written or not all(line.startswith('"') for line in written):
        return None
    return "\n".join(_unquote(line.strip()) for line in lines)


def _unquote(text: str) -> str:
    text = text[1:] if text.startswith('"') else text
    return text[:-1] if text.endswith('"') else text

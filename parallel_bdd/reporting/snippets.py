"""Ready-to-paste step definitions for undefined steps (lettuce's snippet block).

Called by the console reporter in the parent. Unlike lettuce, parameters are numbered
across both quote kinds, so the snippet is valid Python.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")


def snippet_for(sentence: str) -> tuple[str, str]:
    """(regex, code) for one undefined step sentence (keyword included, as lettuce)."""
    parts: list[str] = []
    names: list[str] = []
    words: list[str] = []
    position = 0
    for match in _QUOTED.finditer(sentence):
        parts.append(re.escape(sentence[position : match.start()]).replace("\\ ", " "))
        words.append(sentence[position : match.start()])
        group = f"group{len(names) + 1}"
        names.append(group)
        words.append(f" {group} ")
        quote = match.group(0)[0]
        parts.append('"([^"]*)"' if quote == '"' else "'([^']*)'")
        position = match.end()
    parts.append(re.escape(sentence[position:]).replace("\\ ", " "))
    words.append(sentence[position:])
    pattern = "".join(parts)
    ascii_words = unicodedata.normalize("NFKD", "".join(words)).encode("ascii", "ignore").decode()
    name = "_".join(re.findall(r"[a-z0-9]+", ascii_words.lower())) or "step"
    if name[0].isdigit():
        name = f"step_{name}"
    params = ", ".join(["step", *names])
    literal = pattern.replace("\\", "\\\\").replace("'", "\\'")
    code = (
        f"@step(u'{literal}')\n"
        f"def {name}({params}):\n"
        "    assert False, 'This step must be implemented'"
    )
    return pattern, code


def snippet_block(sentences: Iterable[str]) -> str:
    """The whole block, one snippet per distinct regex; '' when there is nothing to propose."""
    seen: dict[str, str] = {}
    for sentence in sentences:
        pattern, code = snippet_for(sentence.strip())
        seen.setdefault(pattern, code)
    if not seen:
        return ""
    body = "\n\n".join(seen.values())
    return (
        "You can implement step definitions for undefined steps with these snippets:\n\n"
        "from parallel_bdd import step\n\n" + body + "\n"
    )

"""gherkin-official's document of one feature file compiled into ``WorkItem`` records.

Called by ``loader.py`` (in the parent) once a file has parsed: one ``WorkItem`` per
scenario and per outline row, with a stable scenario id, the steps as plain ``StepData``.
Imports nothing from cli, reporting or worker code.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .lettuce_dialect import unquote_doc_string
from .messages import FeatureData, StepData, WorkItem
from .registry import relative_path

# the keyword a lettuce step line without one is parsed with (its sentence stays as written)
KEYWORDLESS_MARK = "* "


def _dedent(text: str) -> str:
    return "\n".join(line.strip() for line in text.split("\n")).strip()


def _cells(row: dict[str, Any]) -> tuple[str, ...]:
    return tuple(cell["value"] for cell in row["cells"])


class FeatureCompiler:
    """One parsed document → WorkItems (one per scenario / outline row)."""

    def __init__(self, path: Path, document: dict[str, Any], keywordless: set[int]) -> None:
        self.path = path
        self.shown = relative_path(str(path))
        self.document = document
        self.keywordless = keywordless
        self.steps: dict[str, dict[str, Any]] = {}
        self.background_steps: set[str] = set()
        self.scenarios: dict[str, dict[str, Any]] = {}
        self.rows: dict[str, tuple[int, dict[str, Any], dict[str, Any]]] = {}
        self.scenario_lines: list[int] = []
        # doc strings read as lettuce read quoted lines: their line -> (first line, as read)
        self.quoted_doc_strings: dict[int, tuple[str, str]] = {}
        self.names: dict[str, int] = {}  # scenario name -> how many so far (ids stay unique)
        self.ids_by_scenario: dict[str, str] = {}

    def _index(self, children: Iterable[dict[str, Any]]) -> None:
        for child in children:
            if "background" in child:
                for step_ast in child["background"]["steps"]:
                    self.steps[step_ast["id"]] = step_ast
                    self.background_steps.add(step_ast["id"])
            elif "scenario" in child:
                node = child["scenario"]
                self.scenarios[node["id"]] = node
                self.scenario_lines.append(node["location"]["line"])
                for step_ast in node["steps"]:
                    self.steps[step_ast["id"]] = step_ast
                index = 0
                for examples in node.get("examples", ()):
                    for row in examples.get("tableBody", ()):
                        self.rows[row["id"]] = (index, examples, row)
                        index += 1
            elif "rule" in child:
                self._index(child["rule"].get("children", ()))

    def compile(self) -> list[WorkItem]:
        from gherkin.pickles.compiler import Compiler

        feature = self.document.get("feature")
        if not feature:
            return []
        self._index(feature.get("children", ()))
        feature_data = self._feature_data(feature)
        document = dict(self.document, uri=self.shown)
        items: list[WorkItem] = []
        for compiled in Compiler().compile(document):
            # order: within the file; load_features numbers the whole run
            items.append(self._item(compiled, feature_data, order=len(items)))
        return items

    def _feature_data(self, feature: dict[str, Any]) -> FeatureData:
        background = next((c["background"] for c in feature["children"] if "background" in c), None)
        return FeatureData(
            path=self.shown,
            name=feature["name"],
            line=feature["location"]["line"],
            description=_dedent(feature.get("description", "")),
            tags=tuple(tag["name"].lstrip("@") for tag in feature.get("tags", ())),
            language=feature.get("language", "en"),
            keyword=feature.get("keyword", "Feature"),
            background_name=background["name"] if background else "",
            background_line=background["location"]["line"] if background else 0,
        )

    def _scenario_id(self, node: dict[str, Any]) -> str:
        """``path::name``, with ``::N`` for the Nth scenario of that name in the file."""
        base_id = self.ids_by_scenario.get(node["id"])
        if base_id is None:
            name = node["name"]
            count = self.names.get(name, 0) + 1
            self.names[name] = count
            base_id = f"{self.shown}::{name}" + (f"::{count}" if count > 1 else "")
            self.ids_by_scenario[node["id"]] = base_id
        return base_id

    def _item(self, compiled: dict[str, Any], feature: FeatureData, order: int) -> WorkItem:
        """One compiled scenario (gherkin's pickle) as a WorkItem: a scenario or an outline row."""
        node = self.scenarios[compiled["astNodeIds"][0]]
        base_id = self._scenario_id(node)
        ast_ids = compiled["astNodeIds"]
        row_info = self.rows.get(ast_ids[1]) if len(ast_ids) > 1 else None
        common = dict(
            feature=feature,
            name=compiled["name"],
            keyword=node["keyword"],
            tags=tuple(tag["name"].lstrip("@") for tag in compiled.get("tags", ())),
            steps=tuple(self._step(step) for step in compiled["steps"]),
            scenario_line=node["location"]["line"],
            template_name=node["name"],
            order=order,
        )
        if row_info is None:
            return WorkItem(scenario_id=base_id, line=node["location"]["line"], **common)
        row_index, examples, row = row_info
        return WorkItem(
            scenario_id=f"{base_id}::{row_index + 1}",
            line=row["location"]["line"],
            outline_keys=_cells(examples["tableHeader"]) if examples.get("tableHeader") else (),
            outline_values=_cells(row),
            outline_index=row_index,
            **common,
        )

    def _step(self, pickle_step: dict[str, Any]) -> StepData:
        ast = self.steps[pickle_step["astNodeIds"][0]]
        line = ast["location"]["line"]
        keyword = ast["keyword"]
        text = pickle_step["text"]
        original = ast["text"]
        if line in self.keywordless and keyword == KEYWORDLESS_MARK:
            # lettuce matched the whole line; keep its first word in the sentence
            keyword = ""
        argument = pickle_step.get("argument", {})
        table: tuple[tuple[str, ...], ...] = ()
        doc_string = None
        doc_type = ""
        if "dataTable" in argument:
            table = tuple(_cells(row) for row in argument["dataTable"]["rows"])
        if "docString" in argument:
            doc_string = argument["docString"]["content"]
            doc_type = argument["docString"].get("mediaType", "") or ""
            unquoted = unquote_doc_string(doc_string)
            if unquoted is not None:
                first = next(text for text in doc_string.split("\n") if text.strip())
                plain = next(text for text in unquoted.split("\n") if text.strip())
                self.quoted_doc_strings[ast["docString"]["location"]["line"]] = (first, plain)
                doc_string = unquoted
        return StepData(
            keyword=keyword,
            text=text,
            line=line,
            original_text=original if original != text else "",
            table=table,
            doc_string=doc_string,
            doc_string_type=doc_type,
            in_background=ast["id"] in self.background_steps,
        )

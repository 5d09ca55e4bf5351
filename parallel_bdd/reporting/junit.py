"""JUnit XML report (``--junit-xml PATH``, lettuce's ``--with-xunit --xunit-file``).

Called through ``reporting.registry`` by ``session.py`` in the parent once the run is over,
with every result record in file order; never by a worker. Imports only the standard
library, ``files`` and ``messages``: nothing from ``cli``, ``session``, ``pool``, ``worker``
or the other reporters.

Two families, as pytest's ``junit_family`` (``--junit-family``, ``junit_family`` in
``[tool.pbdd]``):

* ``xunit2`` (the default) validates against the Jenkins xUnit plugin's JUnit schema
  (``junit-10.xsd``, the one pytest's ``xunit2`` output is checked against), so readers that
  check the schema accept it: ``<testcase>`` has only ``classname``, ``name`` and ``time``,
  and ``<testsuites>`` only ``name``, ``tests``, ``failures``, ``errors`` and ``time``.
* ``pbdd`` adds what the schema has no place for: ``file`` and ``line`` on each
  ``<testcase>`` (GitLab shows the file of a test from it), its ``<properties>`` (below),
  and ``skipped`` and ``timestamp`` on ``<testsuites>``. Readers that do not check the
  schema (Jenkins' JUnit plugin, GitLab, ``junitparser``) read both.

In both:

* ``<testsuites>`` holds one ``<testsuite>`` per feature file, in file order; its ``name`` is
  the feature's name, ``file`` the feature's path. ``time`` on ``<testsuites>`` is the run's
  wall time; on a ``<testsuite>`` it is the sum of its scenarios' durations (scenarios of one
  feature may have run side by side on several workers). Times have three decimals, the
  most the schema's ``SUREFIRE_TIME`` allows.
* One ``<testcase>`` per scenario (per Scenario Outline row). ``classname`` is the feature's
  name, not its path with dots: GitLab and Jenkins show it as written. ``name`` is the
  scenario's ``WorkItem.display_name``: an outline row whose name has no ``<placeholder>``
  to tell it from its siblings gets its Examples values (`` [3, red]``), so that rows stay
  distinct in a CI's test history.
* Verdict: passed → no child; failed, undefined, ambiguous → ``<failure>`` (message: the
  error's one line; type: the exception class, ``undefined`` or ``ambiguous``; text: the step
  sentence, ``file:line``, the step definition and the traceback); errored → ``<error>``;
  not run → ``<skipped message="not run">``.
* Retries (several records with one ``scenario_id``, ``attempt`` counting from 1) stay ONE
  testcase, so a CI's per-test history does not split when a scenario is retried. Its verdict
  is the last attempt that ran; earlier failed attempts become Maven Surefire's interim
  results inside it, each with its message, type, ``<stackTrace>``, ``<system-out>`` and
  ``<system-err>``: ``<flakyFailure>``/``<flakyError>`` when the last attempt passed (the
  scenario is *flaky*: Jenkins' flaky-test support, Surefire reports and
  ``junitparser.xunit2`` read them; consumers that do not know these elements see a pass, the
  same verdict as the run's exit code), ``<rerunFailure>``/``<rerunError>`` when it failed
  again. In the ``pbdd`` family a flaky testcase also carries the property ``flaky=true``.
  ``time`` is the sum of all attempts.
* ``pbdd`` family only: ``<properties>`` on each testcase (as pytest's ``record_property``
  writes them):
  ``scenario_id``, ``status`` (pbdd's own), ``worker_id`` (left out when it never ran),
  ``attempt`` (of the verdict), ``attempts``, ``tags`` (``@a @b``, left out when none) and
  ``flaky=true`` when it applies.
* ``<system-out>``: captured stdout, then the captured log, then one
  ``[[ATTACHMENT|path]]`` line per artifact (screenshots, page sources), the convention that
  Jenkins' junit-attachments plugin and GitLab's screenshot support read. ``<system-err>``:
  captured stderr, then the notes (warnings) the scenario raised.

Text goes through :func:`xml_safe`: ANSI escape sequences are removed and characters XML 1.0
forbids (NUL and other C0 controls but tab/newline/return, lone surrogates, U+FFFE/U+FFFF) are
dropped; the writer escapes the rest (``<``, ``&``, quotes) as ``xml.sax.saxutils`` would,
without importing it (it would import ``urllib.request``, ``http.client`` and ``ssl``).

The report is the bytes ``ElementTree`` would write for the same tree (indented by two
spaces), written as lines: the frame and each test case's own lines directly, the rarer
parts (verdicts, earlier attempts, output) from a small element class: the report comes
after the last scenario, so its time adds to the run's.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from parallel_bdd.files import write_atomically
from parallel_bdd.messages import (
    AMBIGUOUS,
    ERRORED,
    FAILED,
    NOT_RUN,
    PASSED,
    UNDEFINED,
    ScenarioResult,
    StepResult,
    WorkItem,
)
from parallel_bdd.reporting.records import (
    Record,
    group_attempts,
    group_by_feature,
    strip_ansi,
    verdict,
)

if TYPE_CHECKING:
    from parallel_bdd.reporting.registry import FinishedRun

__all__ = ["DEFAULT_FAMILY", "FAMILIES", "write_junit_xml", "xml_safe"]

# the schema-valid one first: it is the default
FAMILIES = ("xunit2", "pbdd")
DEFAULT_FAMILY = FAMILIES[0]


# what XML 1.0 forbids, named directly: the negated class of what it allows is much
# slower to compile
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# plain ASCII text (no escape character, nothing XML forbids) needs no cleaning at all
_NOT_PLAIN = re.compile("[^\t\n\r\x20-\x7e]")
_ATTRIBUTE_SPECIAL = re.compile('[&<>"\r\n\t]')
_ATTRIBUTE_ENTITIES = (('"', "&quot;"), ("\r", "&#13;"), ("\n", "&#10;"), ("\t", "&#09;"))
_EXCEPTION_NAME = re.compile(r"^([A-Za-z_][\w.]*)(?::|$)")
_FAILED_STATUSES = (FAILED, UNDEFINED, AMBIGUOUS)


def xml_safe(text: str) -> str:
    """``text`` without ANSI escapes and without the characters XML 1.0 cannot hold."""
    if _NOT_PLAIN.search(text) is None:
        return text
    return _XML_FORBIDDEN.sub("", strip_ansi(text))


def write_junit_xml(
    path: str | os.PathLike[str],
    records: Sequence[Record],
    *,
    wall_time: float,
    suite_name: str = "pbdd",
    family: str = DEFAULT_FAMILY,
) -> None:
    """Write the JUnit XML report of ``records`` (file order) to ``path``, atomically.

    ``wall_time`` is the run's elapsed time in seconds (``<testsuites time>``);
    ``suite_name`` names the ``<testsuites>`` element; ``family`` is one of ``FAMILIES``.
    Parent directories are created. See the module docstring for the families and for how
    statuses, retries and artifacts are reported.
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown JUnit family {family!r}: one of {', '.join(FAMILIES)}")
    lines = ["<?xml version='1.0' encoding='utf-8'?>\n"]
    _render_report(
        lines, records, wall_time=wall_time, suite_name=suite_name, rich=family == "pbdd"
    )
    write_atomically(Path(path), "".join(lines).encode("utf-8"))


def write(path: str, report: FinishedRun) -> None:
    """The registry's entry point (``reporting.registry``): ``--junit-xml PATH``."""
    write_junit_xml(path, report.records, wall_time=report.wall_time, family=report.junit_family)


def _escaped(text: str) -> str:
    """``text`` with ``&``, ``<`` and ``>`` escaped, as ``xml.sax.saxutils.escape`` does."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _quoted(value: str) -> str:
    if _ATTRIBUTE_SPECIAL.search(value) is None:
        return value
    value = _escaped(value)
    for character, entity in _ATTRIBUTE_ENTITIES:
        value = value.replace(character, entity)
    return value


def _attributes(attrib: dict[str, str]) -> str:
    """`` key="value"`` for each attribute (values already ``xml_safe``), in order."""
    return "".join([f' {key}="{_quoted(value)}"' for key, value in attrib.items()])


class _Element:
    """An XML element: a tag, attributes (already ``xml_safe``), text or child elements.
    For the rarer parts of a test case (verdicts, earlier attempts, output); the report's
    frame and every test case's own lines are rendered directly, 2,000 or more of them."""

    __slots__ = ("tag", "attrib", "text", "children")

    def __init__(self, tag: str, text: str = "", **attrib: str) -> None:
        self.tag = tag
        self.attrib = attrib
        self.text = text
        self.children: list[_Element] = []

    def add(self, tag: str, text: str = "", **attrib: str) -> _Element:
        child = _Element(tag, text, **attrib)
        self.children.append(child)
        return child

    def render(self, lines: list[str], indent: str) -> None:
        """Append this element's lines; an element with children has no text of its own."""
        start = self.tag + _attributes(self.attrib)
        if self.children:
            lines.append(f"{indent}<{start}>\n")
            inner = indent + "  "
            for child in self.children:
                child.render(lines, inner)
            lines.append(f"{indent}</{self.tag}>\n")
        elif self.text:
            lines.append(f"{indent}<{start}>{_escaped(self.text)}</{self.tag}>\n")
        else:
            lines.append(f"{indent}<{start} />\n")


def _render_report(
    lines: list[str], records: Sequence[Record], *, wall_time: float, suite_name: str, rich: bool
) -> None:
    """``rich``: the ``pbdd`` family, with what the schema has no place for."""
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    starts: list[float] = []
    hostname = xml_safe(socket.gethostname())
    suites: list[str] = []
    for feature_records in group_by_feature(records):
        counts = _render_testsuite(suites, feature_records, hostname, rich)
        for key in totals:
            totals[key] += counts[key]
        starts.extend(result.started_at for _, result in feature_records if result.started_at)
    attrib = {"name": xml_safe(suite_name), **{key: str(value) for key, value in totals.items()}}
    if not rich:  # the schema allows neither on <testsuites>
        del attrib["skipped"]
    attrib["time"] = _seconds(wall_time)
    if starts and rich:
        attrib["timestamp"] = _timestamp(min(starts))
    if not suites:
        lines.append(f"<testsuites{_attributes(attrib)} />\n")
        return
    lines.append(f"<testsuites{_attributes(attrib)}>\n")
    lines.extend(suites)
    lines.append("</testsuites>\n")


def _render_testsuite(
    lines: list[str], records: list[Record], hostname: str, rich: bool
) -> dict[str, int]:
    """Append the ``<testsuite>`` of one feature's records; its counts, for the total."""
    feature = records[0][0].feature
    counts = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    attempts_by_scenario = group_attempts(records)
    total_time = 0.0
    starts = [result.started_at for _, result in records if result.started_at]
    cases: list[str] = []
    name = xml_safe(feature.name or feature.path)
    file = xml_safe(feature.path)
    # every test case of the feature has the same class name (the suite's name) and file
    classname = _quoted(name)
    where = f'" file="{_quoted(file)}" line="' if rich else ""
    for attempts in attempts_by_scenario:
        verdict_status, seconds = _render_testcase(cases, attempts, classname, where, rich)
        total_time += float(seconds)  # the sum of what the test cases show
        if verdict_status in _FAILED_STATUSES:
            counts["failures"] += 1
        elif verdict_status == ERRORED:
            counts["errors"] += 1
        elif verdict_status == NOT_RUN:
            counts["skipped"] += 1
    counts["tests"] = len(attempts_by_scenario)
    attrib = {"name": name}
    attrib.update((key, str(value)) for key, value in counts.items())
    attrib["time"] = _seconds(total_time)
    if starts:
        attrib["timestamp"] = _timestamp(min(starts))
    attrib["hostname"] = hostname
    attrib["file"] = file
    lines.append(f"  <testsuite{_attributes(attrib)}>\n")
    lines.extend(cases)
    lines.append("  </testsuite>\n")
    return counts


def _render_testcase(
    lines: list[str], attempts: list[Record], classname: str, where: str, rich: bool
) -> tuple[str, str]:
    """Append the ``<testcase>`` of one scenario (all its attempts); its verdict status and
    its ``time`` as shown. ``classname`` and ``where`` (the file attribute up to the line
    number; empty unless ``rich``) are the feature's, rendered once for all its test cases."""
    item, final = verdict(attempts)
    earlier = [result for _, result in attempts if result is not final and result.failed]
    flaky = final.status == PASSED and bool(earlier)
    seconds = _seconds(sum(result.duration for _, result in attempts))
    name = _quoted(xml_safe(item.display_name))
    line = f"{where}{item.line}" if rich else ""
    start = f'    <testcase classname="{classname}" name="{name}{line}" time="{seconds}"'
    parts: list[_Element] = []
    verdict_element = _verdict_element(item, final)
    if verdict_element is not None:
        parts.append(verdict_element)
    parts.extend(_interim_element(item, result, flaky=flaky) for result in earlier)
    parts.extend(_output_elements(final))
    if not rich and not parts:
        lines.append(f"{start} />\n")
        return final.status, seconds
    lines.append(f"{start}>\n")
    if rich:
        _render_properties(lines, attempts, item, final, flaky=flaky)
    for part in parts:
        part.render(lines, "      ")
    lines.append("    </testcase>\n")
    return final.status, seconds


def _render_properties(
    lines: list[str], attempts: list[Record], item: WorkItem, final: ScenarioResult, *, flaky: bool
) -> None:
    # Never empty: a scenario id and a status. Only the id and the tags can hold
    # characters to escape; the other values are pbdd's own words and numbers.
    lines.append("      <properties>\n")
    lines.append(_property("scenario_id", item.scenario_id))
    lines.append(f'        <property name="status" value="{final.status}" />\n')
    if final.status != NOT_RUN:  # one that never ran has no worker; -1 is the serial parent
        lines.append(f'        <property name="worker_id" value="{final.worker_id}" />\n')
    lines.append(f'        <property name="attempt" value="{final.attempt}" />\n')
    lines.append(f'        <property name="attempts" value="{len(attempts)}" />\n')
    if item.tags:
        lines.append(_property("tags", " ".join(f"@{tag}" for tag in item.tags)))
    if flaky:
        lines.append('        <property name="flaky" value="true" />\n')
    lines.append("      </properties>\n")


def _property(name: str, value: str) -> str:
    return f'        <property name="{name}" value="{_quoted(xml_safe(value))}" />\n'


def _verdict_element(item: WorkItem, result: ScenarioResult) -> _Element | None:
    if result.status == PASSED:
        return None
    if result.status == NOT_RUN:
        return _Element("skipped", message="not run")
    tag = "error" if result.status == ERRORED else "failure"
    message, kind, text = _failure_details(item, result)
    return _Element(tag, xml_safe(text), message=xml_safe(message), type=xml_safe(kind))


def _interim_element(item: WorkItem, result: ScenarioResult, *, flaky: bool) -> _Element:
    """Surefire's ``flakyFailure``/``rerunError``/... for an earlier failed attempt."""
    prefix = "flaky" if flaky else "rerun"
    suffix = "Error" if result.status == ERRORED else "Failure"
    message, kind, text = _failure_details(item, result)
    element = _Element(
        prefix + suffix,
        message=xml_safe(f"attempt {result.attempt}: {message}"),
        type=xml_safe(kind),
    )
    element.add("stackTrace", xml_safe(text))
    out, err = _captured(result)
    if out:
        element.add("system-out", xml_safe(out))
    if err:
        element.add("system-err", xml_safe(err))
    return element


def _failure_details(item: WorkItem, result: ScenarioResult) -> tuple[str, str, str]:
    """(message, type, text) of a scenario that did not pass."""
    if result.status == ERRORED:
        step = result.failing_step
        text = result.error_traceback or result.error
        if result.error and result.error not in text:
            text = f"{text.rstrip()}\n{result.error}"
        if step is not None:
            text = f"{text}\n\n{_step_report(item, step)}"
        message = result.error or "scenario errored"
        return message, _exception_name(result.error) or ERRORED, text

    undefined = [step for step in result.steps if step.status == UNDEFINED]
    step = result.failing_step
    if step is not None and step.status == AMBIGUOUS:
        return f"Ambiguous step: {step.sentence}", AMBIGUOUS, _step_report(item, step)
    if step is not None:
        message = step.error or f"Step failed: {step.sentence}"
        return message, _exception_name(step.error) or FAILED, _step_report(item, step)
    if undefined:
        sentences = ", ".join(step.sentence for step in undefined)
        text = "\n\n".join(_step_report(item, step) for step in undefined)
        return f"Undefined step: {sentences}", UNDEFINED, text
    # A failed status with no failing step: whatever the runner said went wrong.
    message = result.error or f"scenario {result.status}"
    return message, result.status, result.error_traceback or message


def _step_report(item: WorkItem, step: StepResult) -> str:
    lines = [f"Step: {step.sentence.strip()}", f"At: {item.feature.path}:{step.line}"]
    if step.in_background:
        lines[0] += "  (background)"
    if step.definition:
        lines.append(f"Definition: {step.definition}")
    if step.status == UNDEFINED:
        lines.append("No step definition matches this sentence.")
    if step.candidates:
        lines.append("Matching definitions:")
        lines.extend(f"  {candidate}" for candidate in step.candidates)
    detail = step.traceback or step.error
    if detail:
        lines.extend(("", detail.rstrip()))
    return "\n".join(lines)


def _output_elements(result: ScenarioResult) -> list[_Element]:
    out, err = _captured(result)
    attachments = "".join(f"[[ATTACHMENT|{path}]]\n" for path in result.artifacts)
    if attachments:
        out = f"{out}\n{attachments}" if out else attachments
    elements = []
    if out:
        elements.append(_Element("system-out", xml_safe(out)))
    if err:
        elements.append(_Element("system-err", xml_safe(err)))
    return elements


def _captured(result: ScenarioResult) -> tuple[str, str]:
    out = _join_sections(result.stdout, ("captured logging", result.log))
    err = _join_sections(result.stderr, ("notes", "\n".join(result.notes)))
    return out, err


def _join_sections(first: str, *sections: tuple[str, str]) -> str:
    parts = [first.rstrip("\n")] if first else []
    for title, body in sections:
        if body:
            parts.append(f"----- {title} -----\n{body.rstrip()}")
    return "\n".join(parts) + "\n" if parts else ""


def _exception_name(error: str) -> str:
    match = _EXCEPTION_NAME.match(error.strip())
    return match.group(1) if match else ""


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}"


def _timestamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch).replace(microsecond=0).isoformat()

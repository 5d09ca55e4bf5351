"""The HTML report's fixed text: the page around the sections, its style, the filter, the
timeline's frame and the SVG patterns that mark statuses by shape as well as colour.

Used by ``html.py`` only; holds no data from a run (``page`` puts the escaped title, the
body and the JSON in place). The script is in ``html_script.py``.
"""

from __future__ import annotations

from .html_script import SCRIPT

# Inline style and script only, images from data: URIs only, nothing else from anywhere:
# a report opened from a CI artifact must not reach out (and an injected tag could not).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)

STYLE = """
:root { --passed: #2e7d32; --failed: #c62828; --errored: #6a1b9a; --ambiguous: #ad1457;
  --undefined: #b26a00; --not_run: #757575; --ink: #1d1d1f; --soft: #f3f3f5; --line: #d0d0d6; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
  margin: 0 auto; padding: 0 1.5rem 3rem; max-width: 1400px; }
h1 { font-size: 1.5rem; margin: 1rem 0 .5rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .6rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1rem; margin: 0 0 .3rem; }
h4 { font-size: .9rem; margin: .8rem 0 .2rem; }
pre { background: var(--soft); padding: .5rem .7rem; overflow-x: auto; white-space: pre-wrap;
  word-break: break-word; font: 12.5px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; }
code.where { color: #555; font-size: .85em; }
.facts { display: flex; flex-wrap: wrap; gap: .5rem 2rem; margin: 0 0 .6rem; }
.facts dt { font-size: .8rem; color: #555; } .facts dd { margin: 0; font-weight: 600; }
.badge { display: inline-block; padding: 0 .45em; border-radius: 3px; color: #fff;
  font-weight: 600; font-size: .85em; white-space: nowrap; background: var(--not_run); }
.s-passed.badge, .v-passed { background: var(--passed); }
.s-failed.badge, .v-failed { background: var(--failed); }
.s-errored.badge { background: var(--errored); } .s-ambiguous.badge { background: var(--ambiguous); }
.s-undefined.badge { background: var(--undefined); } .v-interrupted { background: #444; }
.filter { position: sticky; top: 0; z-index: 2; background: #fff; padding: .5rem 0;
  border-bottom: 1px solid var(--line); display: flex; flex-wrap: wrap; gap: .4rem 1.2rem;
  align-items: center; }
.filter fieldset { border: 0; padding: 0; margin: 0; display: flex; gap: .2rem .8rem; flex-wrap: wrap; }
.filter legend { float: left; font-weight: 600; margin-right: .5rem; }
.filter label { white-space: nowrap; }
:focus-visible { outline: 3px solid #1a73e8; outline-offset: 1px; }
.failure { border: 1px solid var(--line); border-left: 6px solid var(--failed); padding: .6rem .9rem;
  margin: .8rem 0; }
.failure .meta { margin: 0 0 .3rem; color: #444; }
.tag { background: var(--soft); border-radius: 3px; padding: 0 .3em; margin-right: .3em; }
.steps li small { color: #555; } .steps li.s-failed, .steps li.s-ambiguous { font-weight: 600; }
.shot { max-width: 100%; max-height: 480px; border: 1px solid var(--line); }
figure { margin: .3rem 0; } .missing { color: var(--failed); } .none { color: #555; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .2rem .5rem; border-bottom: 1px solid var(--soft); vertical-align: top; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.legend { display: flex; flex-wrap: wrap; gap: .3rem 1rem; margin: .3rem 0; }
.legend svg { vertical-align: middle; }
.tl { display: grid; grid-template-columns: max-content minmax(0, 1fr); border: 1px solid var(--line); }
.tl-labels { border-right: 1px solid var(--line); }
.tl-labels div { height: 26px; line-height: 26px; padding: 0 .6rem; white-space: nowrap; font-size: .85rem; }
.tl-labels .axis-gap { height: 22px; }
.tl-labels .critical { font-weight: 700; background: #fff4cc; }
.tl-scroll { overflow-x: auto; position: relative; }
.tl-tools { margin: .3rem 0; display: flex; gap: .4rem; align-items: center; }
svg .lane { fill: #fafafa; } svg .lane.critical { fill: #fff4cc; }
svg .tick { stroke: #e2e2e8; } svg .tick-label { font-size: 11px; fill: #555; }
svg .bar { stroke: none; cursor: pointer; }
svg .bar.s-passed { fill: var(--passed); }
svg .bar.s-failed { fill: url(#pat-failed); } svg .bar.s-errored { fill: url(#pat-errored); }
svg .bar.s-ambiguous { fill: url(#pat-ambiguous); } svg .bar.s-undefined { fill: url(#pat-undefined); }
svg .bar.last { stroke: #000; stroke-width: 2px; }
svg .bar:focus { outline: none; stroke: #1a73e8; stroke-width: 3px; }
svg .bar.dim { opacity: .15; }
svg .mark { font-size: 11px; fill: #fff; pointer-events: none; font-weight: 700; }
svg .idle { fill: url(#pat-idle); } svg .end { stroke: #000; stroke-dasharray: 4 3; }
svg .batch { fill: url(#pat-batch); stroke: #263238; stroke-width: 1px; cursor: default; }
svg .batch:focus { outline: none; stroke: #1a73e8; stroke-width: 3px; }
svg .batch-label { font-size: 11px; fill: #fff; pointer-events: none; font-weight: 700; }
.tip { position: absolute; z-index: 5; background: #222; color: #fff; padding: .35rem .55rem;
  border-radius: 4px; font-size: 12.5px; white-space: pre; pointer-events: none; }
tr[tabindex]:focus { background: #e8f0fe; }
[data-sid], section { scroll-margin-top: 6rem; }  /* below the sticky filter */
"""

# Status patterns, referenced by the timeline's bars and the legend (same document).
PATTERNS = """<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>
<pattern id="pat-failed" width="6" height="6" patternUnits="userSpaceOnUse"
 patternTransform="rotate(45)"><rect width="6" height="6" fill="#c62828"/>
 <rect width="2" height="6" fill="#ffffff" fill-opacity="0.55"/></pattern>
<pattern id="pat-errored" width="6" height="6" patternUnits="userSpaceOnUse"
 patternTransform="rotate(45)"><rect width="6" height="6" fill="#6a1b9a"/>
 <rect width="2" height="6" fill="#ffffff" fill-opacity="0.5"/>
 <rect width="6" height="2" fill="#ffffff" fill-opacity="0.5"/></pattern>
<pattern id="pat-ambiguous" width="6" height="6" patternUnits="userSpaceOnUse">
 <rect width="6" height="6" fill="#ad1457"/>
 <rect width="6" height="2" fill="#ffffff" fill-opacity="0.55"/></pattern>
<pattern id="pat-undefined" width="5" height="5" patternUnits="userSpaceOnUse">
 <rect width="5" height="5" fill="#b26a00"/>
 <circle cx="2.5" cy="2.5" r="1.2" fill="#ffffff" fill-opacity="0.7"/></pattern>
<pattern id="pat-batch" width="4" height="4" patternUnits="userSpaceOnUse">
 <rect width="4" height="4" fill="#455a64"/>
 <rect width="1" height="4" fill="#ffffff" fill-opacity="0.2"/></pattern>
<pattern id="pat-idle" width="8" height="8" patternUnits="userSpaceOnUse"
 patternTransform="rotate(-45)"><rect width="8" height="8" fill="#fafafa"/>
 <rect width="1" height="8" fill="#b0b0b8"/></pattern>
</defs></svg>"""

FILTER = """<form class="filter" id="filter" aria-label="Filter the scenarios">
<fieldset id="filter-status"><legend>Status</legend></fieldset>
<label>Tag <select id="filter-tag"><option value="">any tag</option></select></label>
<label>Feature <select id="filter-feature"><option value="">any feature</option></select></label>
<label>Name <input id="filter-name" type="search" size="16"></label>
<button type="reset" id="filter-reset">Show all</button>
<output id="filter-count" aria-live="polite"></output>
</form>"""

TIMELINE = """<section id="timeline-section"><h2>Worker timeline</h2>
<p>One lane per worker, one bar per scenario attempt from its start to its end. Passed
bars are short and solid; failed, errored, ambiguous and undefined ones are taller,
patterned. The worker's <code>before.batch</code> and <code>after.batch</code> hooks are
the full-height, rounded, striped bars labelled with their name (shortened to before and
after, or B and A, when narrow).
Hatched stretches are idle time, from a worker's first bar to the end of the run; before
it, the worker was starting. The last scenario bar of each lane has a black outline; the
highlighted lane ended the run (its bars are what the end of the run waited for). Hover
over a bar or focus it (Tab, then the arrow keys; Enter shows the scenario in the
table).</p>
<div class="legend" id="legend"></div>
<div class="tl-tools"><button type="button" id="zoom-out" aria-label="Zoom out">&minus;</button>
<button type="button" id="zoom-in" aria-label="Zoom in">+</button>
<button type="button" id="zoom-fit">Fit</button><span id="timeline-note"></span></div>
<div class="tl" id="timeline"><div class="tl-labels" id="timeline-lanes"></div>
<div class="tl-scroll" id="timeline-scroll"></div></div>
<div class="tip" id="tip" role="tooltip" hidden></div>
</section>"""

TABLE = """<section id="all"><h2>All scenarios</h2>
<table id="scenarios"><thead><tr><th scope="col">Status</th><th scope="col">Scenario</th>
<th scope="col">Feature</th><th scope="col">Where</th><th scope="col">Tags</th>
<th scope="col">Time</th><th scope="col">Ran on</th><th scope="col">Attempts</th></tr></thead>
<tbody></tbody></table>
<noscript><p>The timeline, this table and the filter need JavaScript.</p></noscript>
</section>"""


def page(title: str, body: str, data_json: str) -> str:
    """The whole document: ``title`` escaped, ``data_json`` made safe by ``script_json``."""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>{title}</title>\n<style>{STYLE}</style></head>\n<body>\n{PATTERNS}\n"
        f"{body}\n"
        f'<script type="application/json" id="pbdd-data">{data_json}</script>\n'
        f"<script>{SCRIPT}</script>\n</body></html>\n"
    )

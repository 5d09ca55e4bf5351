"""The HTML report's script: the worker timeline (SVG), the table of every scenario and the
filter, drawn from the page's ``pbdd-data`` JSON block.

Used by ``html_page.py`` only. Plain JavaScript, no library; every text from the data goes
into the page through ``textContent`` or ``setAttribute``, never as markup.
"""

from __future__ import annotations

SCRIPT = r"""
(function () {
  "use strict";
  var SVG_NS = "http://www.w3.org/2000/svg";  // a namespace name, never fetched
  var LANE = 26, AXIS = 22, PAD = 6;
  var data = JSON.parse(document.getElementById("pbdd-data").textContent);
  var scenarios = data.scenarios, timeline = data.timeline;
  var visible = scenarios.map(function () { return true; });
  var zoom = 1, laneBars = [], current = null;

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    setAll(node, attributes);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function shape(tag, attributes) {
    var node = document.createElementNS(SVG_NS, tag);
    setAll(node, attributes);
    return node;
  }
  function setAll(node, attributes) {
    Object.keys(attributes || {}).forEach(function (name) {
      node.setAttribute(name, String(attributes[name]));
    });
  }
  function seconds(value) { return value.toFixed(2) + " s"; }
  function statusText(status) {
    var known = data.statuses[status];
    return known ? known[0] + " " + known[1] : status;
  }
  function workerName(id) { return id >= 0 ? "worker " + id : "main process"; }

  // -- the table of every scenario ------------------------------------------------------
  function buildTable() {
    var rows = document.createDocumentFragment();
    scenarios.forEach(function (scenario, index) {
      var row = element("tr", {"data-sid": index, id: "scenario-" + index, tabindex: -1});
      var name = scenario.failed
        ? element("a", {href: "#failure-" + index}, scenario.name)
        : document.createTextNode(scenario.name);
      var ran = scenario.status !== "not_run";
      [
        element("span", {"class": "badge s-" + scenario.status}, statusText(scenario.status)),
        name,
        document.createTextNode(data.features[scenario.feature].name),
        element("code", {"class": "where"}, scenario.where),
        document.createTextNode(scenario.tags.map(function (tag) { return "@" + tag; }).join(" ")),
        document.createTextNode(ran ? seconds(scenario.duration) : "\u2013"),
        document.createTextNode(ran ? workerName(scenario.worker) : "\u2013"),
        document.createTextNode(String(scenario.attempts))
      ].forEach(function (content, column) {
        var cell = element("td", column === 5 || column === 7 ? {"class": "num"} : {});
        cell.appendChild(content);
        row.appendChild(cell);
      });
      rows.appendChild(row);
    });
    document.querySelector("#scenarios tbody").appendChild(rows);
  }

  // -- the filter -----------------------------------------------------------------------
  function buildFilter() {
    var counts = {}, tags = {};
    scenarios.forEach(function (scenario) {
      counts[scenario.status] = (counts[scenario.status] || 0) + 1;
      scenario.tags.forEach(function (tag) { tags[tag] = true; });
    });
    var box = document.getElementById("filter-status");
    Object.keys(data.statuses).forEach(function (status) {
      if (!counts[status]) return;
      var label = element("label", {});
      var check = element("input", {type: "checkbox", value: status, id: "filter-" + status});
      check.checked = true;
      label.appendChild(check);
      label.appendChild(document.createTextNode(" " + statusText(status) + " (" + counts[status] + ")"));
      box.appendChild(label);
    });
    var tagList = document.getElementById("filter-tag");
    Object.keys(tags).sort().forEach(function (tag) {
      tagList.appendChild(element("option", {value: tag}, "@" + tag));
    });
    var featureList = document.getElementById("filter-feature");
    data.features.forEach(function (feature, index) {
      featureList.appendChild(element("option", {value: index}, feature.name + " (" + feature.path + ")"));
    });
    var form = document.getElementById("filter");
    form.addEventListener("input", applyFilter);
    form.addEventListener("change", applyFilter);
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    document.getElementById("filter-reset").addEventListener("click", function (event) {
      event.preventDefault();
      form.querySelectorAll("input[type=checkbox]").forEach(function (check) { check.checked = true; });
      tagList.value = ""; featureList.value = "";
      document.getElementById("filter-name").value = "";
      applyFilter();
    });
  }

  function applyFilter() {
    var statuses = {};
    document.querySelectorAll("#filter-status input:checked").forEach(function (check) {
      statuses[check.value] = true;
    });
    var tag = document.getElementById("filter-tag").value;
    var feature = document.getElementById("filter-feature").value;
    var name = document.getElementById("filter-name").value.toLowerCase();
    var shown = 0;
    visible = scenarios.map(function (scenario) {
      var keep = Boolean(statuses[scenario.status]) &&
        (!tag || scenario.tags.indexOf(tag) >= 0) &&
        (feature === "" || String(scenario.feature) === feature) &&
        (!name || scenario.name.toLowerCase().indexOf(name) >= 0);
      if (keep) shown += 1;
      return keep;
    });
    showFiltered();
    document.getElementById("filter-count").textContent =
      "showing " + shown + " of " + scenarios.length + " scenarios";
  }

  function showFiltered() {
    document.querySelectorAll("[data-sid]").forEach(function (node) {
      var keep = visible[Number(node.getAttribute("data-sid"))];
      if (node instanceof SVGElement) node.classList.toggle("dim", !keep);
      else node.hidden = !keep;
    });
  }

  // -- the timeline ---------------------------------------------------------------------
  function buildLegend() {
    var legend = document.getElementById("legend");
    Object.keys(data.statuses).forEach(function (status) {
      if (status === "not_run") return;
      var key = element("span", {});
      var swatch = shape("svg", {width: 22, height: 14, "aria-hidden": "true"});
      var tall = status !== "passed";
      swatch.appendChild(shape("rect", {"class": "bar s-" + status, x: 1, y: tall ? 0 : 3,
        width: 20, height: tall ? 14 : 8}));
      key.appendChild(swatch);
      key.appendChild(document.createTextNode(" " + statusText(status)));
      legend.appendChild(key);
    });
  }

  function niceStep(rough) {
    var power = Math.pow(10, Math.floor(Math.log10(rough)));
    var scaled = rough / power;
    return (scaled <= 1 ? 1 : scaled <= 2 ? 2 : scaled <= 5 ? 5 : 10) * power;
  }

  function drawAxis(root, width, height, scale) {
    var step = niceStep(Math.max(timeline.span, 1e-3) / Math.max(width / 110, 1));
    var digits = step >= 1 ? 0 : Math.min(3, Math.ceil(-Math.log10(step)));
    for (var at = 0; at <= timeline.span + step / 2; at += step) {
      var x = PAD + at * scale;
      root.appendChild(shape("line", {"class": "tick", x1: x, x2: x, y1: AXIS - 4, y2: height}));
      if (x + 40 > width) continue;  // no room for the label before the edge
      var label = shape("text", {"class": "tick-label", x: x + 2, y: AXIS - 8});
      label.textContent = at.toFixed(digits) + " s";
      root.appendChild(label);
    }
  }

  function drawLabels(labels) {
    labels.appendChild(element("div", {"class": "axis-gap"}, "seconds from the first start"));
    timeline.lanes.forEach(function (lane) {
      var idle = timeline.span - lane.end;
      var busy = timeline.span > 0 ? Math.round(100 * lane.busy / timeline.span) : 100;
      var text = lane.label + " \u00b7 " + lane.bars + (lane.bars > 1 ? " attempts" : " attempt") +
        " \u00b7 busy " + busy + "%" +
        (lane.critical ? " \u00b7 \u2691 ended the run" : " \u00b7 idle " + seconds(idle) + " at the end");
      labels.appendChild(element("div", {"class": lane.critical ? "critical" : "",
        "data-lane": lane.worker}, text));
    });
  }

  function drawLanes(root, width, scale) {
    timeline.lanes.forEach(function (lane, number) {
      var top = AXIS + number * LANE, idle = timeline.span - lane.end;
      root.appendChild(shape("rect", {"class": lane.critical ? "lane critical" : "lane",
        x: 0, y: top + 1, width: width, height: LANE - 2}));
      if (idle * scale >= 1) {
        root.appendChild(shape("rect", {"class": "idle", x: PAD + lane.end * scale, y: top + 1,
          width: idle * scale, height: LANE - 2, "aria-hidden": "true"}));
      }
    });
    var end = PAD + timeline.span * scale;
    root.appendChild(shape("line", {"class": "end", x1: end, x2: end, y1: AXIS - 4,
      y2: AXIS + timeline.lanes.length * LANE}));
  }

  function describe(bar) {
    var scenario = scenarios[bar.scenario], lane = timeline.lanes[bar.lane];
    var lines = [scenario.name, scenario.where,
      statusText(bar.status) + " \u00b7 " + seconds(bar.duration) + " \u00b7 " +
      workerName(lane.worker) + " \u00b7 attempt " + bar.attempt,
      "from " + seconds(bar.start) + " to " + seconds(bar.start + bar.duration)];
    if (bar.last) lines.push(lane.critical ? "the last bar of the run" : "the last bar of its lane");
    return lines.join("\n");
  }

  function drawBars(root, scale) {
    laneBars = timeline.lanes.map(function () { return []; });
    timeline.bars.forEach(function (bar, index) {
      var top = AXIS + bar.lane * LANE, tall = bar.status !== "passed";
      var x = PAD + bar.start * scale, width = Math.max(1, bar.duration * scale);
      var rect = shape("rect", {
        "class": "bar s-" + bar.status + (bar.last ? " last" : ""),
        x: x, y: tall ? top + 4 : top + 8, width: width, height: tall ? LANE - 8 : LANE - 16,
        tabindex: -1, role: "img", "aria-label": describe(bar).replace(/\n/g, ", "),
        "data-sid": bar.scenario, "data-lane": timeline.lanes[bar.lane].worker,
        "data-attempt": bar.attempt, "data-bar": index
      });
      root.appendChild(rect);
      laneBars[bar.lane].push(rect);
      if (width >= 14) {
        var mark = shape("text", {"class": "mark", x: x + width / 2 - 4, y: top + LANE / 2 + 4});
        mark.textContent = data.statuses[bar.status] ? data.statuses[bar.status][0] : "";
        root.appendChild(mark);
      }
    });
    var critical = timeline.lanes.findIndex(function (lane) { return lane.critical; });
    var lastBars = laneBars[Math.max(critical, 0)];
    setCurrent(lastBars[lastBars.length - 1], false);
  }

  function drawTimeline() {
    var scroll = document.getElementById("timeline-scroll");
    var labels = document.getElementById("timeline-lanes");
    scroll.textContent = "";
    labels.textContent = "";
    var note = timeline.unplaced ? timeline.unplaced + " attempts have no start time and are not drawn." : "";
    document.getElementById("timeline-note").textContent = timeline.bars.length ? note : "No scenario ran.";
    if (!timeline.bars.length) return;
    drawLabels(labels);  // first: the lanes' labels take their width before the bars' is measured
    var busiest = Math.max.apply(null, timeline.lanes.map(function (lane) { return lane.bars; }));
    var width = Math.round(Math.max(scroll.clientWidth - 2, 300, busiest * 3) * zoom);
    var scale = (width - 2 * PAD) / Math.max(timeline.span, 1e-6);
    var height = AXIS + timeline.lanes.length * LANE;
    var root = shape("svg", {width: width, height: height, role: "group",
      "aria-label": "Worker timeline: arrow keys move between bars, Enter shows the scenario"});
    drawAxis(root, width, height, scale);
    drawLanes(root, width, scale);
    drawBars(root, scale);
    scroll.appendChild(root);
    root.addEventListener("mouseover", showTip);
    root.addEventListener("focusin", showTip);
    root.addEventListener("mouseout", hideTip);
    root.addEventListener("focusout", hideTip);
    root.addEventListener("keydown", moveFocus);
    root.addEventListener("click", function (event) { openBar(event.target); });
    showFiltered();
  }

  function isBar(node) { return node && node.classList && node.classList.contains("bar") && node.hasAttribute("data-bar"); }

  function showTip(event) {
    if (!isBar(event.target)) return;
    var tip = document.getElementById("tip");
    var box = event.target.getBoundingClientRect();
    tip.textContent = describe(timeline.bars[Number(event.target.getAttribute("data-bar"))]);
    tip.hidden = false;
    var room = document.documentElement.clientWidth - tip.offsetWidth - 8;
    tip.style.left = Math.max(0, Math.min(box.left, room) + window.scrollX) + "px";
    tip.style.top = (box.bottom + window.scrollY + 6) + "px";
  }
  function hideTip() { document.getElementById("tip").hidden = true; }

  function setCurrent(rect, focus) {
    if (!rect) return;
    if (current) current.setAttribute("tabindex", "-1");
    current = rect;
    rect.setAttribute("tabindex", "0");
    if (focus) rect.focus();
  }

  function moveFocus(event) {
    if (!isBar(event.target)) return;
    var bar = timeline.bars[Number(event.target.getAttribute("data-bar"))];
    var row = laneBars[bar.lane], at = row.indexOf(event.target), next = null;
    if (event.key === "ArrowRight") next = row[at + 1];
    else if (event.key === "ArrowLeft") next = row[at - 1];
    else if (event.key === "Home") next = row[0];
    else if (event.key === "End") next = row[row.length - 1];
    else if (event.key === "ArrowUp" || event.key === "ArrowDown") {
      next = nearest(laneBars[bar.lane + (event.key === "ArrowUp" ? -1 : 1)], bar.start);
    } else if (event.key === "Enter" || event.key === " ") {
      openBar(event.target);
    } else return;
    event.preventDefault();
    setCurrent(next, true);
  }

  function nearest(row, start) {
    var best = null, distance = Infinity;
    (row || []).forEach(function (rect) {
      var bar = timeline.bars[Number(rect.getAttribute("data-bar"))];
      if (Math.abs(bar.start - start) < distance) { distance = Math.abs(bar.start - start); best = rect; }
    });
    return best;
  }

  function openBar(node) {
    if (!isBar(node)) return;
    var row = document.getElementById("scenario-" + node.getAttribute("data-sid"));
    if (!row) return;
    row.scrollIntoView({block: "center"});
    row.focus();
  }

  function rezoom(factor) {
    zoom = factor === 0 ? 1 : Math.min(64, Math.max(1, zoom * factor));
    drawTimeline();
  }

  buildTable();
  buildFilter();
  buildLegend();
  applyFilter();
  drawTimeline();
  document.getElementById("zoom-in").addEventListener("click", function () { rezoom(2); });
  document.getElementById("zoom-out").addEventListener("click", function () { rezoom(0.5); });
  document.getElementById("zoom-fit").addEventListener("click", function () { rezoom(0); });
  var pending = false;
  window.addEventListener("resize", function () {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () { pending = false; drawTimeline(); });
  });
})();
"""

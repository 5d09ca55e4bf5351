"""The HTML report's script: the worker timeline (SVG: scenario bars, batch hook bars, idle
gaps), the table of every scenario and the filter, drawn from the page's ``pbdd-data``
JSON block.

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
        document.createTextNode(ran ? scenario.worker : "\u2013"),
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
    [["batch", "B before.batch, A after.batch: each worker's set-up and clean-up"],
     ["idle", "idle"]].forEach(function (entry) {
      var key = element("span", {});
      var swatch = shape("svg", {width: 22, height: 14, "aria-hidden": "true"});
      swatch.appendChild(shape("rect", {"class": entry[0], x: 1, y: 0, width: 20, height: 14,
        rx: 3}));
      key.appendChild(swatch);
      key.appendChild(document.createTextNode(" " + entry[1]));
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
      var idle = lane.idle.reduce(function (sum, gap) { return sum + gap[1]; }, 0);
      var busy = timeline.span > 0 ? Math.round(100 * lane.busy / timeline.span) : 100;
      var attempts = lane.bars + (lane.bars === 1 ? " attempt" : " attempts");
      var facts = [lane.label, attempts, "busy " + busy + "%", "idle " + seconds(idle)];
      if (lane.critical) facts.push("\u2691 ended the run");
      var text = facts.join(" \u00b7 ");
      labels.appendChild(element("div", {"class": lane.critical ? "critical" : "",
        "data-lane": lane.worker}, text));
    });
  }

  function drawLanes(root, width, scale) {
    timeline.lanes.forEach(function (lane, number) {
      var top = AXIS + number * LANE;
      root.appendChild(shape("rect", {"class": lane.critical ? "lane critical" : "lane",
        x: 0, y: top + 1, width: width, height: LANE - 2}));
      lane.idle.forEach(function (gap) {
        if (gap[1] * scale < 1) return;
        root.appendChild(shape("rect", {"class": "idle", x: PAD + gap[0] * scale, y: top + 1,
          width: gap[1] * scale, height: LANE - 2, "data-lane": lane.worker,
          "aria-hidden": "true"}));
      });
    });
    var end = PAD + timeline.span * scale;
    root.appendChild(shape("line", {"class": "end", x1: end, x2: end, y1: AXIS - 4,
      y2: AXIS + timeline.lanes.length * LANE}));
  }

  function describe(bar) {
    if (bar.hook) return describeHook(bar);
    var scenario = scenarios[bar.scenario], lane = timeline.lanes[bar.lane];
    var lines = [scenario.name, scenario.where,
      statusText(bar.status) + " \u00b7 " + seconds(bar.duration) + " \u00b7 " +
      lane.label + " \u00b7 attempt " + bar.attempt,
      "from " + seconds(bar.start) + " to " + seconds(bar.start + bar.duration)];
    if (bar.last) lines.push(lane.critical ? "the last bar of the run" : "the last bar of its lane");
    return lines.join("\n");
  }

  function describeHook(hook) {
    return [hook.hook + " on " + timeline.lanes[hook.lane].label,
      seconds(hook.duration) + ", from " + seconds(hook.start) + " to " +
      seconds(hook.start + hook.duration)].join("\n");
  }

  function hookLabel(name, width) {
    if (width >= 80) return name;
    if (width >= 46) return name.split(".")[0];  // before, after
    return width >= 14 ? name.charAt(0).toUpperCase() : "";  // B, A: the legend says which
  }

  function drawHooks(root, scale) {
    timeline.hooks.forEach(function (hook, index) {
      var top = AXIS + hook.lane * LANE;
      var x = PAD + hook.start * scale, width = Math.max(2, hook.duration * scale);
      var rect = shape("rect", {"class": "batch", x: x, y: top + 2, width: width,
        height: LANE - 4, rx: 3, tabindex: -1, role: "img",
        "aria-label": describeHook(hook).replace(/\n/g, ", "), "data-hook": hook.hook,
        "data-lane": timeline.lanes[hook.lane].worker, "data-hook-bar": index});
      root.appendChild(rect);
      laneBars[hook.lane].push(rect);
      var label = hookLabel(hook.hook, width);
      if (!label) return;
      var text = shape("text", {"class": "batch-label", x: x + 4, y: top + LANE / 2 + 4,
        "data-hook": hook.hook, "data-lane": timeline.lanes[hook.lane].worker});
      text.textContent = label;
      root.appendChild(text);
    });
  }

  function drawBars(root, scale) {
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
  }

  function orderLanes() {
    laneBars.forEach(function (row) {
      row.sort(function (one, other) { return itemOf(one).start - itemOf(other).start; });
    });
    var critical = timeline.lanes.findIndex(function (lane) { return lane.critical; });
    var scenarioBars = laneBars[Math.max(critical, 0)].filter(function (rect) {
      return rect.hasAttribute("data-bar");
    });
    setCurrent(scenarioBars[scenarioBars.length - 1] || laneBars[Math.max(critical, 0)][0], false);
  }

  function drawTimeline() {
    var scroll = document.getElementById("timeline-scroll");
    var labels = document.getElementById("timeline-lanes");
    scroll.textContent = "";
    labels.textContent = "";
    var note = timeline.unplaced ? timeline.unplaced + " attempts have no start time and are not drawn." : "";
    document.getElementById("timeline-note").textContent = timeline.bars.length ? note : "No scenario ran.";
    if (!timeline.bars.length && !timeline.hooks.length) return;
    drawLabels(labels);  // first: the lanes' labels take their width before the bars' is measured
    var busiest = Math.max.apply(null, timeline.lanes.map(function (lane) {
      return lane.bars + 2;  // and its before.batch and after.batch
    }));
    var width = Math.round(Math.max(scroll.clientWidth - 2, 300, busiest * 3) * zoom);
    var scale = (width - 2 * PAD) / Math.max(timeline.span, 1e-6);
    var height = AXIS + timeline.lanes.length * LANE;
    var root = shape("svg", {width: width, height: height, role: "group",
      "aria-label": "Worker timeline: arrow keys move between bars, Enter shows the scenario"});
    drawAxis(root, width, height, scale);
    drawLanes(root, width, scale);
    laneBars = timeline.lanes.map(function () { return []; });
    drawHooks(root, scale);
    drawBars(root, scale);
    orderLanes();
    scroll.appendChild(root);
    root.addEventListener("mouseover", showTip);
    root.addEventListener("focusin", showTip);
    root.addEventListener("mouseout", hideTip);
    root.addEventListener("focusout", hideTip);
    root.addEventListener("keydown", moveFocus);
    root.addEventListener("click", function (event) { openBar(event.target); });
    showFiltered();
  }

  // The data behind a scenario's bar or a batch hook's, or null for anything else.
  function itemOf(node) {
    if (!node || !node.getAttribute) return null;
    if (node.hasAttribute("data-bar")) return timeline.bars[Number(node.getAttribute("data-bar"))];
    if (node.hasAttribute("data-hook-bar")) {
      return timeline.hooks[Number(node.getAttribute("data-hook-bar"))];
    }
    return null;
  }
  function isBar(node) { return itemOf(node) !== null; }

  function showTip(event) {
    if (!isBar(event.target)) return;
    var tip = document.getElementById("tip");
    var box = event.target.getBoundingClientRect();
    tip.textContent = describe(itemOf(event.target));
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
    var bar = itemOf(event.target);
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
      var bar = itemOf(rect);
      if (Math.abs(bar.start - start) < distance) { distance = Math.abs(bar.start - start); best = rect; }
    });
    return best;
  }

  function openBar(node) {
    if (!node || !node.hasAttribute || !node.hasAttribute("data-sid")) return;
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

"""The report page's inline style sheet and script (no file is fetched when the page is opened)."""

CSS = """
:root { --ok:#2e7d32; --ok-bg:#e7f6ec; --cached:#1d4ed8; --cached-bg:#e3edff; --failed:#c62828;
  --failed-bg:#fde8e8; --canceled:#6b7280; --canceled-bg:#eef0f2; --running:#b45309; --running-bg:#fff3d6;
  --ink:#1f2933; --muted:#6b7280; --line:#d5dae1; }
* { box-sizing: border-box; }
body { margin: 0; padding: 18px 28px 40px;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink);
  background: #fafbfc; }
h1 { font-size: 22px; margin: 0 0 10px; }
h2 { font-size: 17px; margin: 26px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 14px; margin: 14px 0 6px; }
h4 { margin: 8px 0 4px; font-size: 13px; }
code, pre { font: 12px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
pre { background: #0f172a; color: #e2e8f0; padding: 10px 12px; border-radius: 6px; overflow: auto;
  max-height: 420px; white-space: pre-wrap; word-break: break-word; }
table { border-collapse: collapse; margin: 4px 0 8px; }
th, td { text-align: left; padding: 3px 10px 3px 0; vertical-align: top; }
table.kv th { color: var(--muted); font-weight: 500; white-space: nowrap; }
table.tasks { width: 100%; background: #fff; border: 1px solid var(--line); }
table.tasks th, table.tasks td { padding: 5px 10px; border-bottom: 1px solid #eef0f3; }
table.tasks tbody tr:hover { background: #f5f8ff; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
a { color: #1d4ed8; text-decoration: none; }
a:hover { text-decoration: underline; }
.muted { color: var(--muted); }
.error { color: var(--failed); font-weight: 500; white-space: pre-wrap; }
.badge, .chip { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 11px;
  font-weight: 600; letter-spacing: .02em; border: 1px solid; vertical-align: middle; }
.chip { margin-right: 6px; font-weight: 500; }
.s-COMPLETE.badge, .s-COMPLETE.chip { color: var(--ok); background: var(--ok-bg); }
.s-CACHED.badge, .s-CACHED.chip { color: var(--cached); background: var(--cached-bg); }
.s-FAILED.badge, .s-FAILED.chip { color: var(--failed); background: var(--failed-bg); }
.s-CANCELED.badge, .s-CANCELED.chip { color: var(--canceled); background: var(--canceled-bg); }
.s-RUNNING.badge, .s-RUNNING.chip { color: var(--running); background: var(--running-bg); }
.s-none.chip { color: var(--muted); background: #fff; border-style: dashed; }
.legend { color: var(--muted); font-size: 12px; }
#fit { font: inherit; font-size: 11px; margin-left: 8px; padding: 1px 8px; border: 1px solid var(--line);
  border-radius: 10px; background: #fff; cursor: pointer; }
.graph-scroll.fit svg.dag { max-width: 100%; height: auto; }
.graph-scroll { overflow: auto; background: #fff; border: 1px solid var(--line); border-radius: 8px;
  padding: 12px; max-height: 78vh; }
svg.dag text { font: 12px system-ui, sans-serif; fill: var(--ink); }
svg.dag .node rect { stroke-width: 1.5; }
svg.dag .node text.label { font-weight: 600; }
svg.dag .node text.sub { fill: var(--muted); font-size: 11px; }
svg.dag .node.s-COMPLETE rect { fill: var(--ok-bg); stroke: var(--ok); }
svg.dag .node.s-CACHED rect { fill: var(--cached-bg); stroke: var(--cached); }
svg.dag .node.s-FAILED rect { fill: var(--failed-bg); stroke: var(--failed); stroke-width: 2.5; }
svg.dag .node.s-CANCELED rect { fill: var(--canceled-bg); stroke: var(--canceled); }
svg.dag .node.s-RUNNING rect { fill: var(--running-bg); stroke: var(--running); }
svg.dag .node.s-none rect { fill: #fff; stroke: #9aa3ad; stroke-dasharray: 4 3; }
svg.dag .node.k-more rect { fill: #f3f4f6; stroke: #c4c9d0; }
svg.dag a.jump:hover rect { filter: brightness(0.95); stroke-width: 2.5; }
svg.dag .group > .frame, svg.dag .group > a > .frame { fill: rgba(148,163,184,0.06); stroke: #b8c0cc; }
svg.dag .group.k-loop > .frame, svg.dag .group.k-loop > a > .frame { stroke-dasharray: 6 4;
  fill: rgba(99,102,241,0.04); }
svg.dag .group.k-iteration > .frame, svg.dag .group.k-iteration > a > .frame {
  fill: rgba(255,255,255,0.7); }
svg.dag .group.s-FAILED > .frame, svg.dag .group.s-FAILED > a > .frame { stroke: var(--failed); }
svg.dag .group.s-CANCELED > .frame, svg.dag .group.s-CANCELED > a > .frame { stroke: var(--canceled);
  fill: rgba(107,114,128,0.07); }
svg.dag .group.s-CACHED > .frame, svg.dag .group.s-CACHED > a > .frame { stroke: var(--cached); }
svg.dag .group.s-COMPLETE > .frame, svg.dag .group.s-COMPLETE > a > .frame { stroke: #7fb48a; }
svg.dag .group.k-dag.s-none[data-key="root"] > .frame { fill: none; stroke: none; }
svg.dag text.heading { fill: #475569; font-weight: 600; font-size: 11.5px; }
svg.dag path.edge { fill: none; stroke: #8a94a3; stroke-width: 1.4; }
svg.dag .arrowhead { fill: #8a94a3; }
.filters { margin: 0 0 8px; }
.filters button { font: inherit; font-size: 12px; margin: 0 6px 4px 0; padding: 3px 10px;
  border: 1px solid var(--line); border-radius: 14px; background: #fff; cursor: pointer; }
.filters button[aria-pressed="true"] { background: #1f2933; color: #fff; border-color: #1f2933; }
details.task { background: #fff; border: 1px solid var(--line); border-radius: 8px; margin: 8px 0;
  padding: 0 14px; }
details.task > summary { cursor: pointer; padding: 9px 0; list-style-position: outside; }
details.task[open] > summary { border-bottom: 1px solid #eef0f3; margin-bottom: 8px; }
details.task.flash { box-shadow: 0 0 0 3px #93c5fd; transition: box-shadow .4s; }
details.block { margin: 8px 0 12px; }
details.block > summary { cursor: pointer; font-weight: 600; font-size: 13px; }
.io { display: grid; grid-template-columns: 1fr 1fr; gap: 18px; }
.artifact { border: 1px solid #e5e8ec; border-radius: 6px; padding: 8px 10px; margin: 6px 0;
  background: #fcfcfd; }
.artifact-head { margin-bottom: 4px; }
.artifact .type { color: #7c3aed; font-size: 12px; }
code.uri { color: var(--muted); font-size: 11px; word-break: break-all; }
table.confusion td, table.confusion th { border: 1px solid #d5dae1; padding: 4px 10px; text-align: center; }
table.confusion th.corner { font-weight: 400; color: var(--muted); font-size: 11px; }
caption { caption-side: top; white-space: nowrap; text-align: left; color: var(--muted); font-size: 12px;
  padding-bottom: 2px; }
figure.roc { margin: 6px 0; }
figure.roc .axes { fill: #fff; stroke: #cbd2da; }
figure.roc .chance { stroke: #cbd2da; stroke-dasharray: 3 3; }
figure.roc .curve { fill: none; stroke: #1d4ed8; stroke-width: 2; }
figcaption { color: var(--muted); font-size: 12px; }
.markdown { background: #fff; border-left: 3px solid #c7d2fe; padding: 2px 12px; }
.markdown pre { background: #f1f5f9; color: var(--ink); }
.markdown table td, .markdown table th { border: 1px solid #e2e8f0; padding: 3px 8px; }
.url { color: var(--muted); font-size: 12px; }
iframe.html-artifact { width: 100%; height: 320px; border: 1px solid var(--line); border-radius: 6px;
  background: #fff; }
footer { margin-top: 30px; color: var(--muted); font-size: 12px; }
[hidden] { display: none !important; }
.io { grid-template-columns: 1fr; }
"""

JS = """
(function () {
  "use strict";
  // A graph a little wider than the page is scaled to fit; a much wider one keeps its size and scrolls.
  function fitGraph() {
    var box = document.querySelector(".graph-scroll"), svg = box && box.querySelector("svg.dag");
    var button = document.getElementById("fit");
    if (!svg || !button) { return; }
    var ratio = svg.width.baseVal.value / box.clientWidth;
    if (ratio <= 1) { return; }
    function apply(fit) {
      box.classList.toggle("fit", fit);
      button.textContent = fit ? "show at full size" : "fit to page";
    }
    apply(ratio <= 1.6);
    button.hidden = false;
    button.addEventListener("click", function () { apply(!box.classList.contains("fit")); });
  }
  function openTarget(id) {
    var target = id && document.getElementById(id);
    if (!target || target.tagName !== "DETAILS") { return; }
    target.hidden = false;
    target.open = true;
    target.classList.add("flash");
    setTimeout(function () { target.classList.remove("flash"); }, 1200);
    target.scrollIntoView({block: "start"});
  }
  window.addEventListener("hashchange", function () { openTarget(location.hash.slice(1)); });
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href^='#x']");
    if (link && link.getAttribute("href") === location.hash) { openTarget(location.hash.slice(1)); }
  });

  var rows = Array.prototype.slice.call(document.querySelectorAll("table.tasks tbody tr"));
  var sections = Array.prototype.slice.call(document.querySelectorAll("details.task"));
  var counts = {};
  rows.forEach(function (row) { counts[row.dataset.state] = (counts[row.dataset.state] || 0) + 1; });
  var filters = document.getElementById("filters");
  function show(state) {
    rows.concat(sections).forEach(function (element) {
      element.hidden = state !== "all" && element.dataset.state !== state;
    });
    Array.prototype.forEach.call(filters.querySelectorAll("button"), function (button) {
      button.setAttribute("aria-pressed", String(button.dataset.state === state));
    });
  }
  function addButton(state, label) {
    var button = document.createElement("button");
    button.type = "button";
    button.dataset.state = state;
    button.textContent = label;
    button.addEventListener("click", function () { show(state); });
    filters.appendChild(button);
  }
  addButton("all", "all (" + rows.length + ")");
  ["FAILED", "COMPLETE", "CACHED", "CANCELED", "RUNNING"].forEach(function (state) {
    if (counts[state]) { addButton(state, state.toLowerCase() + " (" + counts[state] + ")"); }
  });
  show("all");
  fitGraph();
  Array.prototype.forEach.call(document.querySelectorAll("details.log pre"), function (pre) {
    pre.scrollTop = pre.scrollHeight;  // a log's end is where the failure is
  });
  openTarget(location.hash.slice(1));
  document.body.dataset.ready = "yes";
})();
"""

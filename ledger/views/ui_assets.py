"""The UI's style sheet (the report's and a few rules more) and its one script, served as files."""

from ledger.views import report_assets

CSS = report_assets.CSS + """
nav.top { margin: -6px 0 12px; font-size: 13px; }
.split { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 18px; align-items: start; }
#panel { position: sticky; top: 8px; max-height: 96vh; overflow: auto; }
#panel details.task { margin-top: 0; }
#panel table.kv td { word-break: break-all; }
.mark { font-size: 11px; color: var(--muted); border: 1px dashed var(--line); border-radius: 8px;
  padding: 0 6px; }
tr.folded td { background: #f8fafc; }
details.iterations > summary { cursor: pointer; color: #1d4ed8; }
tr.differs { background: #fff7e6; }
tr.differs th::after { content: " ≠"; color: var(--running); }
.s-DAMAGED.badge { color: var(--failed); background: var(--failed-bg); }
form.filters label { margin-right: 10px; }
table.runs td:nth-child(-n+6) { white-space: nowrap; }
code.command { white-space: pre-wrap; word-break: break-all; }
button.copy { font-size: 11px; margin-left: 6px; }
table.rows td, table.rows th { border: 1px solid #e2e8f0; padding: 2px 6px; font-size: 12px; }
"""

JS = """
(function () {
  "use strict";
  var body = document.body;
  var skew = body.dataset.now ? Date.now() / 1000 - parseFloat(body.dataset.now) : 0;
  function all(selector, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(selector));
  }

  // Running durations count up between updates.
  function tick() {
    all("[data-start]").forEach(function (element) {
      var seconds = Math.max(0, Date.now() / 1000 - skew - parseFloat(element.dataset.start));
      var text = seconds.toFixed(1) + "s";
      element.textContent = element.tagName.toLowerCase() === "text" ? "running · " + text : text;
    });
  }
  setInterval(tick, 1000);
  tick();

  function addCopyButtons(root) {
    all("code.command", root).forEach(function (code) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "copy";
      button.textContent = "copy";
      button.addEventListener("click", function () {
        if (navigator.clipboard) { navigator.clipboard.writeText(code.textContent); }
        button.textContent = "copied";
      });
      code.parentNode.appendChild(button);
    });
  }

  // Runs ---------------------------------------------------------------------------------------------------
  if (body.dataset.page === "runs") {
    var busy = false;
    var refreshRuns = function () {
      if (busy) { return; }
      busy = true;
      fetch("/runs-table" + location.search).then(function (r) { return r.text(); }).then(function (html) {
        var checked = all("#runs-box input:checked").map(function (box) { return box.value; });
        document.getElementById("runs-box").innerHTML = html;
        all("#runs-box input").forEach(function (box) { box.checked = checked.indexOf(box.value) >= 0; });
        busy = false;
        tick();
      }).catch(function () { busy = false; });
    };
    new EventSource("/api/runs/events").addEventListener("runs", refreshRuns);
    // Task counts of running runs change in their own journals: looked at again every 2 s meanwhile.
    setInterval(function () { if (all("#runs-box tr[data-state=RUNNING]").length) { refreshRuns(); } }, 2000);
    document.getElementById("compare-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var runs = all("#runs-box input:checked").map(function (box) { return box.value; });
      location.href = "/compare?runs=" + runs.map(encodeURIComponent).join(",");
    });
    return;
  }

  // A run --------------------------------------------------------------------------------------------------
  if (body.dataset.page !== "run") { return; }
  var run = body.dataset.run;
  var base = "/runs/" + encodeURIComponent(run);
  var panel = document.getElementById("panel");
  var openId = null, logTimer = null, pending = null;

  function swap(id, html) {
    var element = document.getElementById(id);
    if (element && element.innerHTML !== html) { element.innerHTML = html; }
  }
  function refresh() {
    if (pending) { return; }
    pending = setTimeout(function () {
      fetch(base + "/live").then(function (r) { return r.json(); }).then(function (parts) {
        swap("run-header", parts.header);
        swap("graph-box", parts.graph);
        swap("failures-box", parts.failures);
        var opened = all("#table-box details.iterations[open]").map(function (d) { return d.dataset.src; });
        swap("table-box", parts.table);
        all("#table-box details.iterations").forEach(function (d) {
          if (opened.indexOf(d.dataset.src) >= 0) { d.open = true; loadLoop(d); }
        });
        body.dataset.state = parts.state;
        pending = null;
        tick();
      }).catch(function () { pending = null; });
    }, 100);
  }

  function loadPanel(id) {
    fetch(base + "/tasks/" + id).then(function (r) { return r.text(); }).then(function (html) {
      var log = panel.querySelector("details.log"), keepLog = openId === id && log && log.open;
      panel.innerHTML = html;
      openId = id;
      addCopyButtons(panel);
      if (keepLog) { panel.querySelector("details.log").open = true; }
      var box = panel.getBoundingClientRect();
      if (box.top > window.innerHeight || box.bottom < 0) { panel.scrollIntoView({block: "start"}); }
      followLog();
      tick();
    });
  }
  function followLog() {
    clearTimeout(logTimer);
    var section = panel.querySelector("details.task"), pre = panel.querySelector("details.log pre");
    if (!section || !pre || section.dataset.state !== "RUNNING") { return; }
    var url = "/api/runs/" + encodeURIComponent(run) + "/executions/" + section.dataset.execution + "/log";
    fetch(url + "?offset=" + pre.dataset.logSize).then(function (r) { return r.json(); })
    .then(function (log) {
      if (log.text) {
        pre.appendChild(document.createTextNode(log.text));
        pre.scrollTop = pre.scrollHeight;
      }
      pre.dataset.logSize = log.size;
      if (log.state === "RUNNING") { logTimer = setTimeout(followLog, 1000); }
    });
  }
  function loadLoop(details) {
    var list = details.querySelector(".list");
    fetch(details.dataset.src).then(function (r) { return r.text(); }).then(function (html) {
      list.innerHTML = html;
      tick();
    });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href^='#x']");
    if (!link) { return; }
    event.preventDefault();
    var id = link.getAttribute("href").slice(2);
    history.replaceState(null, "", "#x" + id);
    loadPanel(id);
  });
  document.addEventListener("toggle", function (event) {
    var details = event.target;
    if (details.classList && details.classList.contains("iterations") && details.open) { loadLoop(details); }
  }, true);

  var source = new EventSource("/api/runs/" + encodeURIComponent(run) + "/events");
  source.addEventListener("execution", function (event) {
    refresh();
    var change = JSON.parse(event.data);
    if (openId !== null && String(change.execution_id) === String(openId)) { loadPanel(openId); }
  });
  source.addEventListener("run", refresh);
  source.addEventListener("open", refresh);  // what changed between this page's rendering and now

  if (location.hash.indexOf("#x") === 0) { loadPanel(location.hash.slice(2)); }
  body.dataset.ready = "yes";
})();
"""

ASSETS = {"ui.css": ("text/css", CSS), "ui.js": ("text/javascript", JS)}

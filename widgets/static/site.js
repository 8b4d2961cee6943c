/* Draws charts from specs embedded in the page, filters the dashboard and copies embed code.
   No inline scripts and no eval: the page's CSP allows only scripts from this server. */
(function () {
  "use strict";

  function readJson(id) {
    var el = id && document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function prefersDark(theme) {
    return theme === "dark" || (theme === "auto" && window.matchMedia &&
      window.matchMedia("(prefers-color-scheme: dark)").matches);
  }

  function draw(el, options) {
    var spec = readJson(prefersDark(el.dataset.theme) ? el.dataset.specDark : el.dataset.specLight);
    if (!spec || typeof window.vegaEmbed !== "function") { return; }
    window.vegaEmbed(el, spec, options).then(function (result) {
      var svg = el.querySelector("svg");
      if (svg) { svg.setAttribute("focusable", "false"); }
      el.classList.add("chart-ready");
      el.dispatchEvent(new CustomEvent("chart:ready", { bubbles: true, detail: { view: result.view } }));
    }).catch(function () {
      el.classList.add("chart-error");
      el.textContent = "The chart could not be drawn; the data table has the same numbers.";
    });
  }

  function drawCharts() {
    var charts = document.querySelectorAll("[data-chart]");
    if (!charts.length) { return; }
    var options = readJson("embed-options") || {};
    Array.prototype.forEach.call(charts, function (el) {
      draw(el, options);
      if (el.dataset.theme === "auto" && window.matchMedia) {
        window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", function () { draw(el, options); });
      }
    });
  }

  function setUpFilter() {
    var form = document.getElementById("kpi-filters");
    if (!form) { return; }
    var text = document.getElementById("kpi-filter");
    var status = document.getElementById("status-filter");
    var count = document.getElementById("kpi-count");
    var none = document.getElementById("no-results");
    var cards = document.querySelectorAll("[data-kpi-card]");
    var groups = document.querySelectorAll("[data-group]");
    function apply() {
      var words = text.value.toLowerCase().split(/\s+/).filter(Boolean);
      var wanted = status.value;
      var shown = 0;
      Array.prototype.forEach.call(cards, function (card) {
        var haystack = card.dataset.search || "";
        var ok = (!wanted || card.dataset.status === wanted) &&
          words.every(function (w) { return haystack.indexOf(w) !== -1; });
        card.hidden = !ok;
        if (ok) { shown += 1; }
      });
      Array.prototype.forEach.call(groups, function (group) {
        group.hidden = !group.querySelector("[data-kpi-card]:not([hidden])");
      });
      count.textContent = shown === 1 ? "1 KPI shown" : shown + " KPIs shown";
      if (none) { none.hidden = shown !== 0; }
    }
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    text.addEventListener("input", apply);
    status.addEventListener("change", apply);
  }

  function setUpCopy() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-copy]"), function (button) {
      button.addEventListener("click", function () {
        var source = document.getElementById(button.dataset.copy);
        var note = button.parentNode.querySelector(".copy-status");
        function done(message) { if (note) { note.textContent = message; } }
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(source.value).then(function () { done("Copied."); },
            function () { source.select(); done("Press Ctrl+C to copy."); });
        } else {
          source.select();
          done("Selected: press Ctrl+C to copy.");
        }
      });
    });
  }

  function start() { drawCharts(); setUpFilter(); setUpCopy(); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());

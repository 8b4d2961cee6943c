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

  // The same rules as widgets/filters.py: the server marks cards hidden for the query string, this
  // re-applies them as the controls change and keeps the address in step (so it can be shared).
  function setUpFilter() {
    var form = document.getElementById("kpi-filters");
    if (!form) { return; }
    var text = document.getElementById("kpi-filter");
    var selects = form.querySelectorAll("select[data-filter]");
    var count = document.getElementById("kpi-count");
    var none = document.getElementById("no-results");
    var cards = document.querySelectorAll("[data-kpi-card]");
    var groups = document.querySelectorAll("[data-group]");
    function apply() {
      var words = text.value.toLowerCase().split(/\s+/).filter(Boolean);
      var wanted = {};
      var params = new URLSearchParams();
      if (text.value) { params.set("q", text.value); }
      Array.prototype.forEach.call(selects, function (select) {
        wanted[select.dataset.filter] = select.value;
        if (select.value) { params.set(select.name, select.value); }
      });
      var shown = {};
      Array.prototype.forEach.call(cards, function (card) {
        var haystack = card.dataset.search || "";
        var ok = Object.keys(wanted).every(function (name) {
          return !wanted[name] || card.dataset[name] === wanted[name];
        }) && words.every(function (w) { return haystack.indexOf(w) !== -1; });
        card.hidden = !ok;
        if (ok) { shown[card.dataset.kpi] = true; }
      });
      Array.prototype.forEach.call(groups, function (group) {
        group.hidden = !group.querySelector("[data-kpi-card]:not([hidden])");
      });
      var total = Object.keys(shown).length;
      count.textContent = total === 1 ? "1 KPI shown" : total + " KPIs shown";
      if (none) { none.hidden = total !== 0; }
      var query = params.toString();
      if (window.history && window.history.replaceState) {
        window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : ""));
      }
    }
    // A static copy of the site (build-site) answers /?status=... with the unfiltered page: the
    // filters of the address are set on the controls and applied here (the server did it already).
    var asked = new URLSearchParams(window.location.search);
    var fromAddress = false;
    Array.prototype.forEach.call(selects, function (select) {
      var value = asked.get(select.name);
      if (value && select.querySelector("option[value=\"" + CSS.escape(value) + "\"]")) {
        fromAddress = fromAddress || select.value !== value;
        select.value = value;
      }
    });
    if (asked.get("q") && text.value !== asked.get("q")) { text.value = asked.get("q"); fromAddress = true; }
    if (fromAddress) { apply(); }
    form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
    text.addEventListener("input", apply);
    Array.prototype.forEach.call(selects, function (select) { select.addEventListener("change", apply); });
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

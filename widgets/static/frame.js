/* Inside an embed: tells the host page how tall the chart is, so embed.js can size the iframe.
   Heights go only to a parent whose origin is allowed (embed.allowed_origins), named exactly. */
(function () {
  "use strict";
  if (window.parent === window) { return; }
  var config = JSON.parse(document.getElementById("frame-config").textContent);
  var parentOrigin = null;
  var lastHeight = 0;

  function allowed(origin) {
    return config.any || origin === window.location.origin || config.origins.indexOf(origin) !== -1;
  }

  function height() {
    var main = document.querySelector("main");
    return Math.ceil(main ? main.getBoundingClientRect().height : document.documentElement.scrollHeight);
  }

  function post() {
    var h = height();
    if (!parentOrigin || h === lastHeight) { return; }
    lastHeight = h;
    window.parent.postMessage({ type: "btvstat:height", id: config.id, height: h }, parentOrigin);
  }

  // Chromium and Safari name the parent's origin; elsewhere the host's embed.js says hello.
  var ancestors = window.location.ancestorOrigins;
  if (ancestors && ancestors.length && allowed(ancestors[0])) { parentOrigin = ancestors[0]; }

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || !event.data || event.data.type !== "btvstat:hello") { return; }
    if (!allowed(event.origin)) { return; }
    parentOrigin = event.origin;
    lastHeight = 0;
    post();
  });

  // "ready" carries nothing but the embed's id, so any parent may receive it.
  var tries = 0;
  function ready() {
    window.parent.postMessage({ type: "btvstat:ready", id: config.id }, "*");
    tries += 1;
    if (tries < 5) { window.setTimeout(ready, 400 * tries); }
  }
  ready();
  if (window.ResizeObserver) { new ResizeObserver(post).observe(document.documentElement); }
  document.addEventListener("chart:ready", function () { lastHeight = 0; post(); });
  window.addEventListener("load", post);
}());

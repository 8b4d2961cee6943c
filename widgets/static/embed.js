/* btvstat-open embeds: include once on a page with embed iframes; each iframe then takes the
   height of its chart. Messages are accepted only from this script's own server, and only from
   the window of one of its embed iframes. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) { return; }
  var origin = new URL(script.src).origin;

  function isEmbed(frame) {
    try {
      var url = new URL(frame.src, window.location.href);
      return url.origin === origin && url.pathname.indexOf("/embed/") === 0;
    } catch (e) {
      return false;
    }
  }

  function frameFor(source) {
    var frames = document.getElementsByTagName("iframe");
    for (var i = 0; i < frames.length; i += 1) {
      if (frames[i].contentWindow === source && isEmbed(frames[i])) { return frames[i]; }
    }
    return null;
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== origin || !event.data || typeof event.data.type !== "string") { return; }
    var frame = frameFor(event.source);
    if (!frame) { return; }
    if (event.data.type === "btvstat:ready") {
      event.source.postMessage({ type: "btvstat:hello" }, origin);
    } else if (event.data.type === "btvstat:height" && typeof event.data.height === "number" && isFinite(event.data.height)) {
      var h = Math.max(60, Math.min(4000, Math.round(event.data.height)));
      frame.style.height = h + "px";
      frame.setAttribute("data-btvstat-height", String(h));
    }
  });
}());

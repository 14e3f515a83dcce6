/* hengqi web interface: the little interactivity the pages need, without a framework.
 * - forms marked data-once are submitted once (buttons disabled after the first submit: no double submission);
 *   forms marked data-confirm ask first;
 * - elements with data-live-url show the instrument's live indication and its stability (polled every 0.8 s).
 * The server never relies on this script: every page works without it, and duplicates are refused there too. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); return; }
    if (form.hasAttribute("data-once")) {
      if (form.dataset.submitted === "1") { event.preventDefault(); return; }
      form.dataset.submitted = "1";
      window.setTimeout(function () {
        form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      }, 0);
    }
  }, true);

  function poll(box) {
    var url = box.getAttribute("data-live-url");
    var value = box.querySelector("[data-live-value]");
    var state = box.querySelector("[data-live-state]");
    var busy = false;
    function show(kind, text) {
      box.setAttribute("data-state", kind);
      if (text !== null) value.textContent = text;
      state.textContent = state.getAttribute("data-" + kind) || "";
    }
    function tick() {
      if (busy || document.hidden) return;
      busy = true;
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { ok: false }; })
        .then(function (data) {
          if (data.ok) show(data.stable ? "stable" : "unstable", data.text);
          else show("offline", "—");
        })
        .catch(function () { show("offline", "—"); })
        .then(function () { busy = false; });
    }
    tick();
    window.setInterval(tick, 800);
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-live-url]").forEach(poll);
  });
})();

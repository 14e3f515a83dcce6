/* hengqi web interface: the little interactivity the pages need, without a framework.
 * - forms marked data-once are submitted once (buttons disabled after the first submit: no double submission);
 *   forms marked data-confirm ask first;
 * - elements with data-live-url show the instrument's live indication and its stability (polled every 0.8 s).
 *   "no connection" is shown only after three failed polls in a row: a poll cut short because the page is being
 *   left (a step submitted), or an instrument swinging over/underload after a load change, is not a lost
 *   connection;
 * - a form with a select[name=kind] shows only the fields of the kind chosen (elements with data-for-kind).
 * The server never relies on this script: every page works without it, and duplicates are refused there too. */
(function () {
  "use strict";
  var leaving = false;
  window.addEventListener("pagehide", function () { leaving = true; });
  window.addEventListener("pageshow", function () { leaving = false; });  // back again (page cache): poll on
  window.addEventListener("beforeunload", function () { leaving = true; });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); return; }
    leaving = true;
    if (form.hasAttribute("data-once")) {
      if (form.dataset.submitted === "1") { event.preventDefault(); return; }
      form.dataset.submitted = "1";
      window.setTimeout(function () {
        form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      }, 0);
    }
  }, true);

  var OFFLINE_AFTER = 3;

  function poll(box) {
    var url = box.getAttribute("data-live-url");
    var value = box.querySelector("[data-live-value]");
    var state = box.querySelector("[data-live-state]");
    var busy = false;
    var failures = 0;
    function show(kind, text) {
      box.setAttribute("data-state", kind);
      if (text !== null) value.textContent = text;
      state.textContent = state.getAttribute("data-" + kind) || "";
    }
    function failed() {
      if (leaving) return;
      failures += 1;
      if (failures >= OFFLINE_AFTER) show("offline", "—");
    }
    function tick() {
      if (busy || document.hidden || leaving) return;
      busy = true;
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { ok: false }; })
        .then(function (data) {
          if (leaving) return;
          if (data.ok) { failures = 0; show(data.stable ? "stable" : "unstable", data.text); }
          else if (data.settling) { failures = 0; show("unstable", null); }
          else failed();
        })
        .catch(failed)
        .then(function () { busy = false; });
    }
    tick();
    window.setInterval(tick, 800);
  }

  function kindFields(form) {
    var select = form.querySelector("select[name=kind]");
    if (!select) return;
    function apply() {
      form.querySelectorAll("[data-for-kind]").forEach(function (el) {
        var shown = el.getAttribute("data-for-kind") === select.value;
        el.hidden = !shown;
        el.querySelectorAll("input, select, textarea").forEach(function (input) { input.disabled = !shown; });
      });
    }
    select.addEventListener("change", apply);
    apply();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-live-url]").forEach(poll);
    document.querySelectorAll("form").forEach(kindFields);
  });
})();

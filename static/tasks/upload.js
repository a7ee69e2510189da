// Polls the upload's status while a worker validates or applies it, then reloads.
(function () {
  "use strict";
  var box = document.getElementById("progress");
  if (!box) return;
  var url = box.getAttribute("data-status-url");
  var bar = document.getElementById("progress-bar");
  var stage = document.getElementById("progress-stage");
  var count = document.getElementById("progress-count");
  var down = document.getElementById("server-down");
  // The page shows retry/cancel when no job works on the upload; reload when that changes.
  var stalled = box.getAttribute("data-stalled") === "1";
  bar.style.width = (bar.getAttribute("data-percent") || 0) + "%";
  function tick() {
    fetch(url, { credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) { throw new Error(r.status); }
        return r.json();
      })
      .then(function (s) {
        down.hidden = true;
        bar.style.width = s.percent + "%";
        stage.textContent = s.stage || s.state_label;
        count.textContent = s.total ? s.done + "/" + s.total : "";
        if (s.busy && s.stalled === stalled) { setTimeout(tick, stalled ? 5000 : 1000); } else { window.location.reload(); }
      })
      .catch(function () { down.hidden = false; setTimeout(tick, 3000); });
  }
  setTimeout(tick, 800);
})();

// Progressive enhancement only: the pages work without it. Counts down the time left of active
// roles once a second; at zero the page reloads, since the role has ended.
"use strict";
(function () {
  function format(seconds) {
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    return (h > 0 ? h + "h " : "") + (h > 0 || m > 0 ? m + "m " : "") + s + "s";
  }
  function tick() {
    var clocks = document.querySelectorAll("time.countdown[data-until]");
    for (var i = 0; i < clocks.length; i++) {
      var until = Date.parse(clocks[i].getAttribute("data-until"));
      if (isNaN(until)) { continue; }
      var left = Math.max(0, Math.round((until - Date.now()) / 1000));
      clocks[i].textContent = format(left);
      if (left === 0 && !clocks[i].hasAttribute("data-ended")) {
        clocks[i].setAttribute("data-ended", "");
        window.setTimeout(function () { window.location.reload(); }, 1500);
      }
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    tick();
    window.setInterval(tick, 1000);
  });
})();

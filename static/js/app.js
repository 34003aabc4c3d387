// Charts: any <canvas data-chart='{...Chart.js config...}'> is drawn on load and after htmx swaps.
(function () {
  function draw(root) {
    if (!window.Chart) return;
    root.querySelectorAll("canvas[data-chart]").forEach(function (el) {
      if (el._chart) el._chart.destroy();
      var config = JSON.parse(el.dataset.chart);
      config.options = config.options || {};
      config.options.maintainAspectRatio = false;
      config.options.animation = false;
      el._chart = new Chart(el, config);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (e) { draw(e.target); });
})();

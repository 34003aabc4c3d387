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
      // Numbers on the axes and in tooltips in the page's language (2.000 in Dutch), not the browser's.
      config.options.locale = config.options.locale || document.documentElement.lang || undefined;
      // "links": one URL per label; a click on a bar (or its label's column) opens it.
      var links = config.links;
      delete config.links;
      if (links) {
        el.style.cursor = "pointer";
        el.dataset.chartLinks = "1";
        config.options.onClick = function (evt, elements, chart) {
          var hit = elements && elements.length ? elements[0].index
            : chart.scales.x ? chart.scales.x.getValueForPixel(evt.x) : null;
          if (hit != null && links[hit]) window.location.href = links[hit];
        };
      }
      el._chart = new Chart(el, config);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (e) { draw(e.target); });
})();

// Destructive clicks: a <button data-confirm="..."> (or a form with data-confirm) asks first;
// cancelling sends nothing. Works for plain forms, forms with a form= button, and htmx.
(function () {
  document.addEventListener("click", function (e) {
    var button = e.target.closest("button[data-confirm], input[type=submit][data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      e.preventDefault();
    }
  }, true);
})();

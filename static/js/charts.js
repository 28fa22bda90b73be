// Draws every <canvas data-chart="…" data-source="id of a json_script"> on the page, also in
// fragments htmx swaps in later. Chart.js is vendored (static/vendor); no inline scripts (CSP).
(() => {
  const css = getComputedStyle(document.documentElement);
  const colour = (name, fallback) => (css.getPropertyValue(name) || fallback).trim();
  const palette = {
    good: colour("--good", "#1f8a4c"), warn: colour("--warn", "#b7791f"), bad: colour("--bad", "#c53030"),
    brand: colour("--brand", "#3056d3"), muted: "#9aa6b8",
  };
  const money = (v) => new Intl.NumberFormat(undefined, { style: "currency", currency: "USD", maximumFractionDigits: 0 }).format(v);
  const compact = (v) => new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 }).format(v);
  const bandColour = (band) => ({ green: palette.good, yellow: palette.warn, red: palette.bad })[band] || palette.muted;
  const base = { responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { labels: { boxWidth: 12 } } } };

  const builders = {
    pipeline: (data) => ({
      type: "bar",
      data: {
        labels: data.map((s) => s.stage),
        datasets: [{ label: "Recurring revenue", data: data.map((s) => s.amount), backgroundColor: [palette.muted, palette.brand, palette.warn, palette.good] }],
      },
      options: { ...base, plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => `${money(c.raw)} · ${data[c.dataIndex].n} renewals` } } },
        scales: { y: { ticks: { callback: compact } } } },
    }),
    revenue: (data) => ({
      type: "bar",
      data: {
        labels: data.labels,
        datasets: data.series.map((s) => ({
          label: s.label, data: s.values, stack: "rr",
          backgroundColor: { new: palette.brand, expansion: palette.good, contraction: palette.warn, churn: palette.bad }[s.kind],
        })),
      },
      options: { ...base, scales: { x: { stacked: true }, y: { stacked: true, ticks: { callback: compact } } },
        plugins: { ...base.plugins, tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${money(c.raw)}` } } } },
    }),
    health: (data) => ({
      type: "line",
      data: {
        labels: data.map((p) => p.day),
        datasets: [{ label: "Health score", data: data.map((p) => p.score), borderColor: palette.brand, tension: 0.25,
          pointRadius: 2, pointBackgroundColor: data.map((p) => bandColour(p.band)) }],
      },
      // A sparkline in the account header: the shape matters, the tooltip gives the numbers.
      options: { ...base, plugins: { legend: { display: false } },
        scales: { y: { min: 0, max: 100, ticks: { maxTicksLimit: 3 } }, x: { display: false } } },
    }),
    arr: (data) => ({
      type: "line",
      data: { labels: data.map((p) => p.day), datasets: [{ label: "Recurring revenue", data: data.map((p) => p.arr), stepped: true, borderColor: palette.good, pointRadius: 3 }] },
      options: { ...base, plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => money(c.raw) } } }, scales: { y: { ticks: { callback: compact } } } },
    }),
    usage: (data) => ({
      type: "line",
      data: { labels: data.map((p) => p.day), datasets: [
        { label: "Active licences", data: data.map((p) => p.active), borderColor: palette.brand, tension: 0.25 },
        { label: "Purchased", data: data.map((p) => p.purchased), borderColor: palette.muted, borderDash: [4, 4], pointRadius: 0 },
      ] },
      options: { ...base, scales: { y: { beginAtZero: true, ticks: { maxTicksLimit: 4 } }, x: { ticks: { maxTicksLimit: 4 } } } },
    }),
    // Health calibration: the share of each band that churned or contracted; counts in the tooltip.
    calibration: (data) => ({
      type: "bar",
      data: {
        labels: data.map((b) => b.label),
        datasets: [{ label: "Churned or contracted", data: data.map((b) => b.rate), backgroundColor: data.map((b) => bandColour(b.band)) }],
      },
      options: { ...base, plugins: { legend: { display: false }, tooltip: { callbacks: {
        label: (c) => { const b = data[c.dataIndex]; return b.n ? `${b.lost} of ${b.n} accounts (${b.rate.toFixed(1)}%)` : "no accounts"; },
      } } },
      scales: { y: { beginAtZero: true, suggestedMax: 10, ticks: { callback: (v) => `${v}%` } } } },
    }),
  };

  function draw(root) {
    if (typeof Chart === "undefined") return;
    root.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
      if (canvas.dataset.drawn) return;
      const source = document.getElementById(canvas.dataset.source);
      const build = builders[canvas.dataset.chart];
      if (!source || !build) return;
      canvas.dataset.drawn = "1";
      new Chart(canvas, build(JSON.parse(source.textContent)));
    });
  }
  document.addEventListener("DOMContentLoaded", () => draw(document));
  document.addEventListener("htmx:load", (event) => draw(event.detail.elt.parentElement || document));
  document.addEventListener("htmx:afterSettle", (event) => draw(event.detail.elt || document));
})();

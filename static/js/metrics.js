// Metrics page charts: a floating-bar waterfall and the trend. Data comes from a JSON block.
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("metrics-chart-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const prefix = data.prefix || "";
  const money = (value) => prefix + Math.round(value).toLocaleString();
  const colours = { total: "#3056d3", gain: "#1f8a4c", loss: "#c53030" };

  const waterfall = document.getElementById("waterfall-chart");
  if (waterfall) {
    // Movements are often a few percent of the total: start the axis near the lowest
    // running level (and say so on screen) instead of drawing them as hairlines.
    const moves = data.waterfall.filter((step) => step.kind !== "total");
    const top = Math.max(...data.waterfall.map((step) => step.high));
    const lowest = Math.min(...moves.map((step) => step.low));
    const spread = Math.max(...moves.map((step) => step.high)) - lowest;
    let axisMin = 0;
    if (top > 0 && spread > 0 && spread < top * 0.25) {
      const step = Math.pow(10, Math.floor(Math.log10(spread)));
      axisMin = Math.max(0, Math.floor((lowest - spread) / step) * step);
      document.getElementById("waterfall-axis-note").hidden = false;
    }
    new Chart(waterfall, {
      type: "bar",
      data: {
        labels: data.waterfall.map((step) => step.label),
        datasets: [{
          label: "Recurring revenue",
          data: data.waterfall.map((step) => [step.low, step.high]),
          backgroundColor: data.waterfall.map((step) => colours[step.kind]),
        }],
      },
      options: {
        maintainAspectRatio: false,
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: (ctx) => {
            const step = data.waterfall[ctx.dataIndex];
            const size = step.high - step.low;
            return step.kind === "total" ? money(step.high) : (step.kind === "gain" ? "+" : "−") + money(size);
          } } },
        },
        scales: { y: { min: axisMin, ticks: { callback: money } } },
      },
    });
  }

  const trend = document.getElementById("trend-chart");
  if (trend) {
    new Chart(trend, {
      data: {
        labels: data.trend.map((p) => p.label),
        datasets: [
          { type: "bar", label: "RR at end", data: data.trend.map((p) => p.end_rr), backgroundColor: "#9fb3ef", yAxisID: "y" },
          { type: "line", label: "Recurring Revenue Rate %", data: data.trend.map((p) => p.rate), borderColor: "#1f8a4c", yAxisID: "pct" },
          { type: "line", label: "Net revenue retention %", data: data.trend.map((p) => p.nrr), borderColor: "#b7791f", yAxisID: "pct" },
        ],
      },
      options: {
        maintainAspectRatio: false,
        scales: {
          y: { beginAtZero: true, ticks: { callback: money } },
          pct: { position: "right", grid: { drawOnChartArea: false }, ticks: { callback: (v) => v + "%" } },
        },
      },
    });
  }
});

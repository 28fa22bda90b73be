// Metrics page charts: a floating-bar waterfall and the trend. Data comes from a JSON block.
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("metrics-chart-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const money = (value) => "$" + Math.round(value).toLocaleString();
  const colours = { total: "#3056d3", gain: "#1f8a4c", loss: "#c53030" };

  const waterfall = document.getElementById("waterfall-chart");
  if (waterfall) {
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
        scales: { y: { beginAtZero: true, ticks: { callback: money } } },
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

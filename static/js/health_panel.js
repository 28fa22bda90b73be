// The health trend chart on the account page. Data comes from the canvas's data-chart attribute.
(function () {
  const colours = { green: "#1f8a4c", yellow: "#b7791f", red: "#c53030" };

  function draw(canvas) {
    if (typeof Chart === "undefined" || canvas.dataset.drawn) return;
    const data = JSON.parse(canvas.dataset.chart);
    const labels = data.points.map((p) => p.day);
    const flat = (value) => labels.map(() => value);
    canvas.dataset.drawn = "1";
    new Chart(canvas, {
      type: "line",
      data: {
        labels,
        datasets: [
          {
            label: "Health",
            data: data.points.map((p) => p.score),
            borderColor: "#3056d3",
            pointBackgroundColor: data.points.map((p) => colours[p.band]),
            pointBorderColor: data.points.map((p) => colours[p.band]),
            pointRadius: 3,
            tension: 0.25,
          },
          { label: "Green from", data: flat(data.green), borderColor: colours.green, borderDash: [4, 4], pointRadius: 0, borderWidth: 1 },
          { label: "Yellow from", data: flat(data.yellow), borderColor: colours.yellow, borderDash: [4, 4], pointRadius: 0, borderWidth: 1 },
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: { y: { min: 0, max: 100, ticks: { stepSize: 20 } }, x: { ticks: { maxTicksLimit: 7 } } },
        plugins: { legend: { display: false } },
      },
    });
  }

  function drawAll() {
    document.querySelectorAll("canvas.health-trend").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", drawAll);
  document.addEventListener("htmx:afterSettle", drawAll);
})();

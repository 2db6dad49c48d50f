// The run page: polls /api/runs/{id} every second and updates the charts, the workers table,
// the straggler warnings, the latest images and the CAM report link without reloading.
// Each canvas carries data-points (points drawn) so that scripts and tests can see progress.
"use strict";

const runId = decodeURIComponent(location.pathname.split("/")[2] || "");
const palette = ["#0b6bcb", "#d9480f", "#2f9e44", "#9c36b5", "#e8590c", "#1098ad", "#5c940d", "#c2255c"];
// Steps are fetched again this far back, because slower ranks report a step after rank 0 does.
const stepOverlap = 10;

const steps = new Map();
let lastStep = 0;
let finished = false;
const charts = {};

function lineChart(id, stacked = false) {
  const canvas = document.getElementById(id);
  return new Chart(canvas, {
    type: "line",
    data: { datasets: [] },
    options: {
      animation: false,
      parsing: false,
      normalized: true,
      maintainAspectRatio: false,
      elements: { point: { radius: 0 }, line: { borderWidth: 1.5 } },
      scales: {
        x: { type: "linear", title: { display: true, text: "step" } },
        y: { stacked, beginAtZero: stacked },
      },
      plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
    },
  });
}

// With stacked set, each series is filled down to the one before it (the first to zero).
function setSeries(chart, series, stacked = false) {
  chart.data.datasets = series.map((s, i) => {
    const color = palette[i % palette.length];
    let fill = false;
    if (stacked) {
      fill = i === 0 ? "origin" : "-1";
    }
    return { label: s.label, data: s.data, borderColor: color, backgroundColor: stacked ? color + "99" : color, fill };
  });
  chart.update("none");
  chart.canvas.dataset.points = String(series.reduce((n, s) => n + s.data.length, 0));
}

function render(run) {
  for (const point of run.steps) {
    steps.set(point.step, point);
    lastStep = Math.max(lastStep, point.step);
  }
  const ordered = [...steps.values()].sort((a, b) => a.step - b.step);
  const summary = run.summary;
  finished = summary.status !== "running";

  document.title = `${summary.id} · DeepGen.Distributed`;
  document.getElementById("run-title").textContent = `${summary.id} (${summary.model})`;
  const status = document.getElementById("run-status");
  status.textContent = `${summary.status}: step ${summary.lastStep} of ${summary.totalSteps}, ${run.epochs} epoch(s), ${run.worldSize} worker(s); folder ${summary.directory}` +
    (run.reason ? `; ${run.reason}` : "");
  status.className = `status-${summary.status}`;

  setSeries(charts.loss, [
    { label: "loss", data: ordered.map(p => ({ x: p.step, y: p.loss })) },
    ...run.termNames.map((name, t) => ({ label: name, data: ordered.map(p => ({ x: p.step, y: p.terms[t] })) })),
  ]);
  setSeries(charts.evaluation, run.metricNames.map((name, m) => ({
    label: name,
    data: run.evaluations.map(e => ({ x: e.step, y: e.values[m] })),
  })));
  charts.evaluation.data.datasets.forEach(d => { d.pointRadius = 3; });
  charts.evaluation.update("none");
  setSeries(charts.throughput, [{ label: "images/s", data: ordered.map(p => ({ x: p.step, y: p.samplesPerSecond })) }]);
  const withPhases = ordered.filter(p => p.phaseSeconds);
  setSeries(charts.phases, run.phaseNames.map((name, i) => ({
    label: name,
    data: withPhases.map(p => ({ x: p.step, y: p.phaseSeconds[i] * 1000 })),
  })), true);
  setSeries(charts.ranks, Array.from({ length: run.worldSize }, (_, rank) => ({
    label: `rank ${rank}`,
    data: ordered.filter(p => p.rankSeconds[rank] !== null && p.rankSeconds[rank] !== undefined)
      .map(p => ({ x: p.step, y: p.rankSeconds[rank] * 1000 })),
  })));

  renderWorkers(run);
  renderStragglers(run.stragglers);
  renderImages(run.images);
  renderCam(run.camReport);
  document.getElementById("checkpoint").textContent = run.lastCheckpoint ? `Latest checkpoint: ${run.lastCheckpoint}` : "No checkpoint yet.";
}

function renderWorkers(run) {
  const body = document.querySelector("#workers tbody");
  body.replaceChildren(...run.workers.map(w => {
    const row = document.createElement("tr");
    for (const value of [w.rank, w.workerId, w.host, w.state, w.lastStep, w.stepSeconds === null ? "–" : (w.stepSeconds * 1000).toFixed(1)]) {
      const cell = document.createElement("td");
      cell.textContent = String(value);
      row.append(cell);
    }
    row.children[3].className = `state-${w.state}`;
    return row;
  }));
}

function renderStragglers(notices) {
  const box = document.getElementById("stragglers");
  box.replaceChildren(...notices.slice(-5).map(n => {
    const warning = document.createElement("div");
    warning.className = "warning straggler";
    warning.textContent = `Straggler: ${n.message}`;
    return warning;
  }));
}

function renderImages(images) {
  if (images.length === 0) {
    return;
  }
  const box = document.getElementById("images");
  const displayedUrls = [...box.querySelectorAll("img")].map(img => img.getAttribute("src"));
  const latestUrls = images.map(i => i.url);
  if (displayedUrls.join("|") === latestUrls.join("|")) {
    return;
  }
  box.className = "";
  box.replaceChildren(...images.map(image => {
    const figure = document.createElement("figure");
    const img = document.createElement("img");
    img.src = image.url;
    img.alt = image.name;
    img.addEventListener("load", () => { img.dataset.loaded = "true"; });
    const caption = document.createElement("figcaption");
    caption.textContent = image.name;
    figure.append(img, caption);
    return figure;
  }));
}

function renderCam(report) {
  if (!report) {
    return;
  }
  const box = document.getElementById("cam");
  box.className = "";
  const link = document.createElement("a");
  link.href = report.url;
  link.target = "_blank";
  link.textContent = `Open ${report.name}`;
  box.replaceChildren(link);
}

charts.loss = lineChart("chart-loss");
charts.evaluation = lineChart("chart-evaluation");
charts.throughput = lineChart("chart-throughput");
charts.phases = lineChart("chart-phases", true);
charts.ranks = lineChart("chart-ranks");

// The server embeds the run's state in the page, so the first view needs no request.
const initialData = document.getElementById("initial-data");
if (initialData) {
  render(JSON.parse(initialData.textContent));
}

// ?polls=N stops after N updates, so that a headless browser with a virtual-time budget can
// take a snapshot of the page instead of waiting on the endless polling.
const pollLimit = Number(new URLSearchParams(location.search).get("polls")) || Infinity;
let polls = 0;
poll(
  () => `/api/runs/${encodeURIComponent(runId)}?after=${Math.max(0, lastStep - stepOverlap)}`,
  1000,
  run => {
    polls++;
    render(run);
  },
  () => finished || polls >= pollLimit);

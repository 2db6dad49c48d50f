// The run list: one row per run of this coordinator, refreshed every 2 seconds.
"use strict";

poll("/api/runs", 2000, runs => {
  const body = document.querySelector("#runs tbody");
  body.replaceChildren(...runs.map(run => {
    const row = document.createElement("tr");
    const link = document.createElement("a");
    link.href = `/runs/${encodeURIComponent(run.id)}`;
    link.textContent = run.id;
    const cells = [link, run.model, run.status, run.startedAt.replace("T", " ").slice(0, 19),
      `${run.lastStep} / ${run.totalSteps}`, formatNumber(run.lastLoss), run.directory];
    for (const value of cells) {
      const cell = document.createElement("td");
      cell.append(value);
      row.append(cell);
    }
    row.children[2].className = `status-${run.status}`;
    return row;
  }));
});

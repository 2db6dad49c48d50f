// Shared parts of the coordinator's pages: the navigation bar and JSON polling.
// A new page (for example a sweep of trials) adds its entry to the navigation here.
"use strict";

const dashboardPages = [
  { href: "/", label: "Runs" },
];

function renderNavigation() {
  const header = document.createElement("header");
  const title = document.createElement("span");
  title.className = "title";
  title.textContent = "DeepGen.Distributed";
  header.append(title);
  for (const page of dashboardPages) {
    const link = document.createElement("a");
    link.href = page.href;
    link.textContent = page.label;
    header.append(link);
  }
  document.body.prepend(header);
}

// Calls update(json) now and then every intervalMs until stop() returns true. A failed request
// is shown in the element with id "connection" and retried at the next interval.
function poll(url, intervalMs, update, stop) {
  const connection = document.getElementById("connection");
  async function tick() {
    try {
      const response = await fetch(typeof url === "function" ? url() : url, { cache: "no-store" });
      if (!response.ok) {
        throw new Error(`HTTP ${response.status}`);
      }
      update(await response.json());
      if (connection) {
        connection.textContent = "";
      }
    } catch (error) {
      if (connection) {
        connection.textContent = `Update failed (${error.message}); retrying.`;
      }
    }
    if (!stop || !stop()) {
      setTimeout(tick, intervalMs);
    }
  }
  tick();
}

function formatNumber(value, digits = 4) {
  return value === null || value === undefined ? "–" : Number(value).toPrecision(digits);
}

renderNavigation();

// AI City Index explorer: sorting, filtering, live re-weighting and charts. No network beyond
// this server; plotly.js is served locally.
"use strict";

function sortTable(table, key, type, button) {
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const ascending = button.getAttribute("aria-sort") !== "ascending";
  table.querySelectorAll("th button").forEach((b) => b.removeAttribute("aria-sort"));
  button.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  const attr = key === "region" ? "regionSort" : key;
  rows.sort((a, b) => {
    const x = a.dataset[attr] ?? "", y = b.dataset[attr] ?? "";
    const c = type === "number" ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
    return ascending ? c : -c;
  });
  rows.forEach((r) => body.appendChild(r));
}

function setupTables() {
  document.querySelectorAll("table.sortable th button[data-sort]").forEach((button) => {
    button.addEventListener("click", () => sortTable(button.closest("table"), button.dataset.sort, button.dataset.type, button));
  });
  document.querySelectorAll("select[data-filter-table]").forEach((select) => {
    const table = document.getElementById(select.dataset.filterTable);
    select.addEventListener("change", () => {
      Array.from(table.tBodies[0].rows).forEach((r) => { r.hidden = select.value !== "" && r.dataset.region !== select.value; });
    });
  });
}

function setupBuilder() {
  const controls = document.getElementById("controls");
  if (!controls) return;
  const lang = controls.dataset.lang;
  const sliders = Array.from(document.querySelectorAll("input.weight"));
  const table = document.getElementById("live");
  let latest = 0;
  let held = {};  // the last preset's weights that no slider shows (a persona's sub-pillars), sent with the sliders'
  async function update() {
    const weights = { ...held };
    sliders.forEach((s) => { weights[s.name] = parseFloat(s.value); document.getElementById("o-" + s.name).textContent = s.value; });
    if (sliders.every((s) => parseFloat(s.value) === 0)) return;
    const ticket = ++latest;
    const started = performance.now();
    const response = await fetch("/api/rank", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ weights, lang }) });
    if (!response.ok || ticket !== latest) return;  // a newer request supersedes this one
    const data = await response.json();
    const body = table.tBodies[0];
    body.replaceChildren(...data.order.filter((i) => data.rank[i] !== null).map((i) => {
      const tr = document.createElement("tr");
      tr.dataset.unit = data.units[i];
      [String(Math.round(data.rank[i])), data.names[i], data.score[i].toFixed(1)].forEach((text, i) => {
        const td = document.createElement("td");
        td.textContent = text;  // text, never HTML
        if (i === 2) td.className = "num";
        tr.appendChild(td);
      });
      return tr;
    }));
    document.getElementById("timing").textContent = Math.round(performance.now() - started) + " ms";
  }
  sliders.forEach((s) => s.addEventListener("input", update));
  document.querySelectorAll("button.preset").forEach((b) => b.addEventListener("click", () => {
    const weights = JSON.parse(b.dataset.weights);
    sliders.forEach((s) => { if (s.name in weights) s.value = String(weights[s.name]); });  // as given: a weight of 0.5 stays 0.5
    held = Object.fromEntries(Object.entries(weights).filter(([code]) => !sliders.some((s) => s.name === code)));
    document.getElementById("why").textContent = b.title || "";
    update();
  }));
}

function setupCharts() {
  if (typeof Plotly === "undefined") return;
  const config = { displaylogo: false, responsive: true, topojsonURL: "/static/topojson/" };
  const radar = document.getElementById("radar");
  if (radar) {
    const f = JSON.parse(radar.dataset.figure);
    const close = (v) => v.concat(v.slice(0, 1));
    Plotly.newPlot(radar, [
      { type: "scatterpolar", r: close(f.a), theta: close(f.theta), fill: "toself", name: radar.dataset.a },
      { type: "scatterpolar", r: close(f.b), theta: close(f.theta), fill: "toself", name: radar.dataset.b },
    ], { polar: { radialaxis: { range: [0, 100] } }, margin: { t: 30 } }, config);
  }
  const waterfall = document.getElementById("waterfall");
  if (waterfall) {
    const f = JSON.parse(waterfall.dataset.figure);
    const measure = f.x.map((_, i) => (i === 0 ? "absolute" : i === f.x.length - 1 ? "total" : "relative"));
    Plotly.newPlot(waterfall, [{ type: "waterfall", x: f.x, y: f.y, measure }], { margin: { t: 30 }, showlegend: false }, config);
  }
  const map = document.getElementById("map");
  if (map) {
    const pts = JSON.parse(map.dataset.points);
    Plotly.newPlot(map, [{
      type: "scattergeo", lat: pts.map((p) => p.lat), lon: pts.map((p) => p.lon), text: pts.map((p) => p.label),  // written by the server in the page's language
      hoverinfo: "text", marker: { size: pts.map((p) => 6 + p.score / 6), color: pts.map((p) => p.score), colorscale: "Blues", reversescale: true, showscale: true, colorbar: { title: { text: map.dataset.label } } },
    }], { geo: { projection: { type: "natural earth" }, showcountries: true, showland: true, landcolor: "#f2f4f7" }, margin: { t: 10, l: 0, r: 0, b: 0 } }, config);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  setupTables();
  setupBuilder();
  setupCharts();
  window.explorerReady = true;
});

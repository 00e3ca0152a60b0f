// The Modelgate web catalog: reads /api/v1 with the bearer token the person pastes in.
// Everything from the API is rendered with textContent, never as HTML.
"use strict";

const state = { token: sessionStorage.getItem("modelgate-token") || "", cursor: null };

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

async function api(path) {
  const answer = await fetch(path, { headers: { Authorization: `Bearer ${state.token}` } });
  const body = await answer.json();
  if (!answer.ok) throw new Error(body.message || `HTTP ${answer.status}`);
  return body;
}

function message(text) {
  document.getElementById("message").textContent = text;
}

async function loadVersions(append) {
  const params = new URLSearchParams({ limit: "25", sort: "-created_at" });
  const prefix = document.getElementById("search").value.trim();
  const stage = document.getElementById("stage").value;
  const profile = document.getElementById("profile").value.trim();
  if (prefix) params.set("name_prefix", prefix);
  if (stage) params.set("stage", stage);
  if (profile) params.set("hardware_profile", profile);
  if (append && state.cursor) params.set("cursor", state.cursor);
  const rows = document.getElementById("rows");
  try {
    const page = await api(`/api/v1/versions?${params}`);
    if (!append) rows.replaceChildren();
    for (const v of page.items) rows.append(row(v));
    state.cursor = page.next_cursor;
    document.getElementById("more").hidden = !page.next_cursor;
    message(rows.children.length ? "" : "No registered version matches.");
  } catch (error) {
    message(`Could not read the catalog: ${error.message}`);
  }
}

function row(version) {
  const tr = el("tr");
  tr.append(el("td", version.model_name), el("td", version.version));
  const stage = el("td");
  stage.append(el("span", version.stage, `badge ${version.stage}`));
  tr.append(stage, el("td", version.hardware_profiles.join(", ") || "—"),
    el("td", new Date(version.created_at).toLocaleString()));
  tr.addEventListener("click", () => showVersion(version.model_name, version.version));
  return tr;
}

function definitions(pairs) {
  const dl = el("dl");
  for (const [key, value] of pairs) {
    if (value === undefined || value === null || value === "") continue;
    dl.append(el("dt", key), el("dd", typeof value === "object" ? JSON.stringify(value) : value));
  }
  return dl;
}

async function showVersion(name, version) {
  const panel = document.getElementById("detail");
  try {
    const [v, model] = await Promise.all([
      api(`/api/v1/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`),
      api(`/api/v1/models/${encodeURIComponent(name)}`),
    ]);
    const card = v.model_card || {};
    panel.replaceChildren(el("h2", `${v.model_name} ${v.version}`));
    panel.append(el("p", card.description, "muted"));
    const badges = el("p");
    badges.append(el("span", v.status, "badge"), el("span", v.stage, `badge ${v.stage}`));
    for (const alias of v.aliases) badges.append(el("span", `alias: ${alias}`, "badge"));
    panel.append(badges);
    panel.append(el("h3", "Model card"), definitions([
      ["Owner team", card.owner_team], ["License", card.license], ["Vendor", card.vendor],
      ["Quantization", card.quantization], ["Framework", card.framework],
      ["Intended use", card.intended_use], ["Limitations", card.limitations],
      ["Metrics", v.metrics], ["Labels", v.labels],
    ]));
    panel.append(el("h3", "Lineage"), definitions(Object.entries(v.lineage || {})));
    panel.append(el("h3", "Hardware"), definitions([
      ["Certified profiles", v.hardware_profiles.join(", ") || "none yet"],
      ["Requested profile", v.requested_profile],
    ]));
    if (v.benchmark) {
      const best = v.benchmark.runs.reduce((a, b) => (a.output_tokens_per_s > b.output_tokens_per_s ? a : b));
      panel.append(el("h3", "Benchmark"), definitions([
        ["Runner", v.benchmark.runner], ["Profile", v.benchmark.hardware_profile],
        ["Output tokens/s", best.output_tokens_per_s.toFixed(1)],
        ["TTFT p99 (ms)", best.ttft.p99_ms.toFixed(1)], ["Concurrency", best.concurrency],
      ]));
    }
    const checks = el("ul");
    for (const check of (v.validation && v.validation.checks) || []) {
      const item = el("li");
      item.append(el("strong", `${check.name}: `), el("span", check.status, check.status),
        el("span", ` — ${check.detail}`, "muted"));
      checks.append(item);
    }
    panel.append(el("h3", "Validation"), checks);
    const running = model.running.map((d) => `${d.environment}: ${d.version}`).join(", ");
    panel.append(el("h3", "Deployments"), definitions([["Running where", running || "not deployed"]]));
    panel.hidden = false;
  } catch (error) {
    panel.replaceChildren(el("p", `Could not read ${name} ${version}: ${error.message}`));
    panel.hidden = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const input = document.getElementById("token");
  input.value = state.token;
  document.getElementById("login").addEventListener("submit", (event) => {
    event.preventDefault();
    state.token = input.value.trim();
    sessionStorage.setItem("modelgate-token", state.token);
    loadVersions(false);
  });
  for (const id of ["search", "stage", "profile"]) {
    document.getElementById(id).addEventListener("change", () => loadVersions(false));
  }
  document.getElementById("more").addEventListener("click", () => loadVersions(true));
  if (state.token) loadVersions(false);
});

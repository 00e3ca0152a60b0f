// Two versions side by side: #/compare?left=NAME@V&right=NAME@V — card, metrics, benchmark
// and checks as rows, the rows that differ marked.
import { can } from "./actions.js";
import { modelPath, registry, versionPath } from "./api.js";
import { h, section } from "./dom.js";
import { number } from "./format.js";
import { benchmarkChart } from "./chart.js";

function split(key) {
  const at = (key || "").lastIndexOf("@");
  return at > 0 ? [key.slice(0, at), key.slice(at + 1)] : null;
}

const CARD_FIELDS = ["owner_team", "license", "vendor", "framework", "quantization", "intended_use", "limitations", "training_data_version", "code_commit"];

function rows(left, right) {
  const out = [];
  const add = (group, label, a, b) => out.push({ group, label, a: a ?? "—", b: b ?? "—" });
  add("version", "status", left.status, right.status);
  add("version", "stage", left.stage, right.stage);
  add("version", "submitter", left.submitter, right.submitter);
  add("version", "hardware", left.hardware_profiles.join(", ") || null, right.hardware_profiles.join(", ") || null);
  add("card", "description", left.model_card.description, right.model_card.description);
  for (const field of CARD_FIELDS) add("card", field, left.model_card[field], right.model_card[field]);
  const metrics = new Set([...Object.keys(left.metrics || {}), ...Object.keys(right.metrics || {})]);
  for (const key of [...metrics].sort()) add("metrics", key, left.metrics[key], right.metrics[key]);
  const runs = (v) => Object.fromEntries(((v.benchmark && v.benchmark.runs) || []).map((r) => [r.concurrency, r]));
  const [ra, rb] = [runs(left), runs(right)];
  const levels = new Set([...Object.keys(ra), ...Object.keys(rb)]);
  for (const c of [...levels].sort((x, y) => x - y)) {
    add("benchmark", `tokens/s at ${c}`, ra[c] && number(ra[c].output_tokens_per_s), rb[c] && number(rb[c].output_tokens_per_s));
    add("benchmark", `TTFT p50 ms at ${c}`, ra[c] && number(ra[c].ttft.p50_ms), rb[c] && number(rb[c].ttft.p50_ms));
    add("benchmark", `TTFT p99 ms at ${c}`, ra[c] && number(ra[c].ttft.p99_ms), rb[c] && number(rb[c].ttft.p99_ms));
  }
  const checks = (v) => Object.fromEntries(((v.validation && v.validation.checks) || []).map((c) => [c.name, c.status]));
  const [ca, cb] = [checks(left), checks(right)];
  for (const name of [...new Set([...Object.keys(ca), ...Object.keys(cb)])].sort()) add("checks", name, ca[name], cb[name]);
  return out;
}

function picker(app, left, right, choices) {
  const form = h("form", { class: "filters", "aria-label": "choose versions to compare" },
    ["left", "right"].map((side, i) => h("div", { class: "field" },
      h("label", { for: `c-${side}`, text: i ? "Right (name@version)" : "Left (name@version)" }),
      h("input", { id: `c-${side}`, name: side, value: (i ? right : left) || "", list: "c-choices", required: true, autocomplete: "off" }))),
    h("datalist", { id: "c-choices" }, choices.map((c) => h("option", { value: c }))),
    h("button", { type: "submit", class: "primary", text: "Compare" }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = `#/compare?${new URLSearchParams(new FormData(form))}`;
  });
  return form;
}

export async function compareView(app, query) {
  const [left, right] = [query.get("left"), query.get("right")];
  const a = split(left);
  const b = split(right);
  let choices = [];
  if (a) {
    const params = new URLSearchParams({ limit: "100" });
    if (can(app.me, "submission:read")) for (const s of app.statuses) params.append("status", s);
    const page = await registry.get(modelPath(a[0], "/versions"), params);
    choices = page.items.map((v) => `${v.model_name}@${v.version}`).filter((c) => c !== left);
  }
  const head = [h("h1", { tabindex: "-1", text: "Compare versions" }), picker(app, left, right, choices)];
  if (!a || !b) return h("div", {}, head, h("p", { class: "muted", text: "Choose two versions." }));
  const [va, vb] = await Promise.all([registry.get(versionPath(...a)), registry.get(versionPath(...b))]);
  const link = (v) => h("a", { href: `#/models/${encodeURIComponent(v.model_name)}/versions/${encodeURIComponent(v.version)}`, text: `${v.model_name} ${v.version}` });
  let group = null;
  const body = h("tbody");
  for (const row of rows(va, vb)) {
    if (row.group !== group) {
      group = row.group;
      body.append(h("tr", { class: "group" }, h("th", { scope: "rowgroup", colspan: "3", text: group })));
    }
    const differs = String(row.a) !== String(row.b);
    body.append(h("tr", { class: differs ? "differs" : "" },
      h("th", { scope: "row" }, row.label, differs ? h("span", { class: "visually-hidden", text: " (differs)" }) : null),
      h("td", { text: String(row.a) }), h("td", { text: String(row.b) })));
  }
  const chart = (v) => (v.benchmark && v.benchmark.runs && v.benchmark.runs.length
    ? benchmarkChart(v.benchmark) : h("p", { class: "muted", text: "Not benchmarked." }));
  return h("div", { class: "compare" }, head,
    h("div", { class: "scroll" }, h("table", { class: "compare-table" },
      h("caption", { class: "visually-hidden", text: "The two versions, row by row" }),
      h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "" }), h("th", { scope: "col" }, link(va)), h("th", { scope: "col" }, link(vb)))),
      body)),
    h("div", { class: "grid" },
      section(`Benchmark: ${va.model_name} ${va.version}`, chart(va)),
      section(`Benchmark: ${vb.model_name} ${vb.version}`, chart(vb))));
}

// The parts of a version page, each a function of the version's detail: the version page,
// the review queue and the compare view put them together differently.
import { benchmarkChart } from "./chart.js";
import { chip, definitions, h, section, table } from "./dom.js";
import { bytes, number, when } from "./format.js";
import { markdown } from "./markdown.js";

export function statusChips(v) {
  return [
    chip(v.status, `status ${v.status.toLowerCase()}`),
    v.stage ? chip(v.stage, `stage ${v.stage}`) : null,
  ];
}

export function labelChips(labels) {
  const entries = Object.entries(labels || {});
  if (!entries.length) return h("span", { class: "muted", text: "no labels" });
  return h("ul", { class: "chips", "aria-label": "labels" },
    entries.map(([key, value]) => h("li", {}, chip(`${key}: ${value}`, "label"))));
}

export function cardSection(v) {
  const card = v.model_card || {};
  const hyper = Object.entries(card.hyperparameters || {});
  return section("Model card",
    markdown(card.description || v.description || ""),
    definitions([
      ["Owner team", card.owner_team], ["License", card.license], ["Vendor", card.vendor],
      ["Framework", card.framework], ["Quantization", card.quantization],
      ["Intended use", card.intended_use ? markdown(card.intended_use) : null],
      ["Limitations", card.limitations ? markdown(card.limitations) : null],
      ["Training data", card.training_data_version], ["Code commit", card.code_commit],
      ["Author", v.author], ["Submitter", v.submitter], ["Uploader", v.uploader],
    ]),
    hyper.length ? table("Hyperparameters", ["hyperparameter", "value"], hyper.map(([k, val]) => [k, String(val)])) : null);
}

export function metricsSection(v) {
  const metrics = Object.entries(v.metrics || {});
  return section("Metrics", metrics.length
    ? table("Metrics", ["metric", "value"], metrics.map(([k, val]) => [k, typeof val === "number" ? String(val) : JSON.stringify(val)]), "numbers")
    : h("p", { class: "muted", text: "No metrics in the card." }));
}

export function lineageSection(v) {
  const lineage = Object.entries(v.lineage || {});
  return section("Lineage", lineage.length
    ? definitions(lineage.map(([k, val]) => [k, typeof val === "object" ? JSON.stringify(val) : val]))
    : h("p", { class: "muted", text: "No lineage recorded." }));
}

export function hardwareSection(v) {
  const hw = (v.benchmark && v.benchmark.hardware) || {};
  return section("Hardware", definitions([
    ["Certified profiles", v.hardware_profiles.join(", ") || "none yet"],
    ["Requested profile", v.requested_profile],
    ["Benchmarked on", hw.gpu_model ? `${hw.gpu_count} × ${hw.gpu_model}` : hw.cpu_model],
    ["CPUs", hw.cpu_count], ["GPU memory", hw.gpu_memory_mib ? `${hw.gpu_memory_mib} MiB` : null],
    ["Driver / CUDA", hw.driver_version ? `${hw.driver_version} / ${hw.cuda_version || "—"}` : null],
  ]));
}

// Who signed the model (OpenSSF Model Signing), as the validator verified it.
export function signatureSection(v) {
  const s = v.signer;
  if (!s) {
    return section("Signature", h("p", { class: "muted", text: "Not signed (or not verified)." }));
  }
  return section("Signature", definitions([
    ["Signed by", s.identity], ["Method", s.method], ["Trusted as", s.trusted_as],
    ["Signature file", s.signature], ["Certificate", s.certificate_fingerprint],
    ["Alternative names", (s.alternative_names || []).join(", ") || null],
  ]));
}

export function benchmarkSection(v) {
  const b = v.benchmark;
  if (!b || !b.runs || !b.runs.length) {
    return section("Benchmark", h("p", { class: "muted", text: "Not benchmarked (no runner for this format or hardware on the validator)." }));
  }
  return section("Benchmark",
    definitions([
      ["Runner", b.runner], ["Profile", b.hardware_profile], ["Server", b.server],
      ["Peak memory", b.peak_memory_mib ? `${number(b.peak_memory_mib, 0)} MiB` : null],
    ]),
    benchmarkChart(b));
}

export function validationSection(v) {
  const report = v.validation;
  if (!report) return section("Validation", h("p", { class: "muted", text: "Not validated yet." }));
  return section("Validation",
    h("p", {}, "Verdict: ", chip(report.verdict, `verdict ${report.verdict}`), report.validated_at ? ` at ${when(report.validated_at)}` : ""),
    v.status_reason && v.status !== "REGISTERED"
      ? h("p", { class: v.status === "REJECTED" ? "reason" : "muted", text: `Reason: ${v.status_reason}` }) : null,
    v.review ? h("p", { class: "review" }, `Review: ${v.review.decision} by ${v.review.by} at ${when(v.review.at)}`,
      v.review.reason ? h("span", { class: "muted", text: ` — ${v.review.reason}` }) : null) : null,
    table("Validation checks", ["check", "status", "detail", "ms"], (report.checks || []).map((c) => [
      c.name, chip(c.status, `check ${c.status}`), c.detail || "", number(c.duration_ms, 0)])));
}

export function deploymentsSection(v) {
  return section("Deployments", v.deployments.length
    ? table("Deployments", ["environment", "by", "when", "note"], v.deployments.map((d) => [d.environment, d.actor, when(d.deployed_at), d.note]))
    : h("p", { class: "muted", text: "No deployment recorded." }));
}

export function filesTable(v) {
  const files = (v.artifact && v.artifact.files) || [];
  return table("Files", ["file", "size", "SHA-256"], files.map((f) => [f.path, bytes(f.size), h("code", { class: "hash", text: f.sha256 })]));
}

/** The registry's own history of a version (stages, aliases, status), newest first. */
export function transitionsList(v) {
  return h("ol", { class: "timeline" }, [...v.transitions].reverse().map((t) => h("li", {},
    h("time", { datetime: t.at, text: when(t.at) }), " ",
    h("strong", { text: `${t.kind}: ${t.from_value || "—"} → ${t.to_value}` }),
    ` by ${t.actor}`, t.approver ? ` (approved by ${t.approver})` : "",
    t.reason ? h("div", { class: "muted", text: t.reason }) : null)));
}

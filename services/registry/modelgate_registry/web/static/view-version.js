// A version page: #/models/NAME/versions/V.
import { aliasChips, can, versionActions } from "./actions.js";
import { audit, auditAvailable, modelPath, registry, versionPath } from "./api.js";
import { h, section, table } from "./dom.js";
import { bytes, when } from "./format.js";
import {
  benchmarkSection, cardSection, deploymentsSection, filesTable, hardwareSection, labelChips,
  lineageSection, metricsSection, signatureSection, statusChips, transitionsList, validationSection,
} from "./sections.js";

export async function versionView(app, name, version) {
  const [v, model] = await Promise.all([
    registry.get(versionPath(name, version)),
    registry.get(modelPath(name)),
  ]);
  const refresh = (message) => app.rerender(message);
  const actions = versionActions(app.me, v, model, refresh);
  return h("article", { class: "version" },
    h("nav", { class: "crumbs", "aria-label": "breadcrumb" },
      h("a", { href: "#/", text: "Catalog" }), " / ",
      h("a", { href: `#/models/${encodeURIComponent(name)}`, text: name })),
    h("h1", { tabindex: "-1" }, `${name} `, h("span", { class: "version-number", text: v.version })),
    h("p", { class: "chips-line" }, statusChips(v), aliasChips(app.me, v, refresh)),
    labelChips(v.labels),
    actions.length ? h("div", { class: "actions", role: "group", "aria-label": "actions" }, actions) : null,
    compareLink(v),
    h("div", { class: "grid" },
      cardSection(v), metricsSection(v), validationSection(v), hardwareSection(v),
      signatureSection(v)),
    benchmarkSection(v),
    h("div", { class: "grid" }, lineageSection(v), deploymentsSection(v)),
    filesSection(app, v),
    await historySection(app, v));
}

function compareLink(v) {
  const href = `#/compare?left=${encodeURIComponent(`${v.model_name}@${v.version}`)}`;
  return h("p", {}, h("a", { href, class: "compare-link", text: "Compare with another version…" }));
}

function filesSection(app, v) {
  const links = h("div", { class: "downloads", "aria-live": "polite" });
  const allowed = v.status === "REGISTERED" && can(app.me, "artifact:download");
  const fetchLinks = async () => {
    links.replaceChildren(h("p", { class: "muted", text: "Asking for download links…" }));
    try {
      const answer = await registry.get(versionPath(v.model_name, v.version, "/download"));
      links.replaceChildren(
        h("p", { class: "muted", text: `Links valid for ${answer.expires_in} s; check each file's SHA-256 after download.` }),
        table("Download links", ["file", "size", "SHA-256"], answer.files.map((f) => [
          /^https?:\/\//.test(f.url) ? h("a", { href: f.url, download: f.path, rel: "noreferrer", text: f.path }) : f.path,
          bytes(f.size), h("code", { class: "hash", text: f.sha256 })])));
    } catch (error) {
      links.replaceChildren(h("p", { class: "error", role: "alert", text: `Refused: ${error.message}` }));
    }
  };
  return section("Files",
    filesTable(v),
    allowed ? h("button", { type: "button", class: "secondary", text: "Get download links", onclick: fetchLinks }) : null,
    links);
}

/** The audit log's entries for this version (admins), or the registry's own history, and
 * whether the whole chain verifies. */
async function historySection(app, v) {
  const badge = h("span", { class: "chip", text: "chain not checked" });
  let timeline = transitionsList(v);
  let source = "the registry's history";
  if (auditAvailable()) {
    if (can(app.me, "audit:verify")) {
      audit.get("/api/v1/audit/verify", new URLSearchParams({ from: "checkpoint" }))
        .then((report) => {
          badge.textContent = report.ok ? "✓ chain verified" : `✗ chain broken at ${report.first_bad_seq}`;
          badge.className = `chip ${report.ok ? "verified" : "broken"}`;
          badge.title = report.ok ? `${report.entries_checked} entries up to #${report.head_seq}` : report.reason;
        })
        .catch((error) => { badge.textContent = `chain not checked: ${error.message}`; });
    }
    if (can(app.me, "audit:read")) {
      try {
        const params = new URLSearchParams({ model: v.model_name, version: v.version, limit: "500" });
        const page = await audit.get("/api/v1/audit/entries", params);
        const entries = [...page.items].sort((a, b) => (a.event_time < b.event_time ? 1 : -1));
        timeline = h("ol", { class: "timeline" }, entries.map((e) => h("li", {},
          h("time", { datetime: e.event_time, text: when(e.event_time) }), " ",
          h("strong", { text: e.action }),
          e.to_stage ? ` ${e.from_stage || "—"} → ${e.to_stage}` : "",
          e.actor ? ` by ${e.actor}` : "", e.approver ? ` (approved by ${e.approver})` : "",
          e.reason ? h("div", { class: "muted", text: e.reason }) : null,
          h("div", { class: "muted small" }, `#${e.seq} `, h("code", { class: "hash", text: e.hash.slice(0, 16) })))));
        source = "the audit log";
      } catch (error) {
        source = `the registry's history (audit log unavailable: ${error.message})`;
      }
    }
  }
  return section("History", h("p", { class: "muted" }, `From ${source}. `, badge), timeline);
}

// A data scientist's own submissions, whatever became of them: #/mine. Rejected ones show
// which checks failed and why (the API's `supplied_by` filter: submitted or uploaded by them).
import { registry } from "./api.js";
import { chip, h } from "./dom.js";
import { when } from "./format.js";
import { versionLink } from "./view-catalog.js";

export async function mineView(app) {
  const params = new URLSearchParams({ limit: "500", sort: "-created_at", supplied_by: app.me.subject });
  for (const status of app.statuses) params.append("status", status);
  const page = await registry.get("/api/v1/versions", params);
  const mine = page.items;
  const body = h("tbody", {}, mine.map((v) => h("tr", {},
    h("td", {}, h("a", { href: versionLink(v), text: `${v.model_name} ${v.version}` })),
    h("td", {}, chip(v.status, `status ${v.status.toLowerCase()}`)),
    h("td", { class: v.status === "REJECTED" ? "reason" : "muted", text: v.status === "REGISTERED" ? "" : v.status_reason }),
    h("td", { text: when(v.created_at) }))));
  return h("div", {},
    h("h1", { tabindex: "-1", text: "My submissions" }),
    h("p", { class: "muted", text: `Versions submitted or uploaded by ${app.me.subject}, newest first, with the reason of any that failed their checks.` }),
    h("div", { class: "scroll" }, h("table", {},
      h("caption", { class: "visually-hidden", text: "My submissions" }),
      h("thead", {}, h("tr", {}, ["version", "status", "reason", "submitted"].map((t) => h("th", { scope: "col", text: t })))),
      body)),
    h("p", { class: "muted", role: "status", text: mine.length ? `${mine.length} submission${mine.length === 1 ? "" : "s"}.` : "You have submitted nothing yet." }));
}

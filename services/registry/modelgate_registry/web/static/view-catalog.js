// The catalog: search versions with the native API's filters, a cursor page at a time.
// The filters live in the URL (#/?name_prefix=...), so a search is a link like any other.
import { can } from "./actions.js";
import { registry } from "./api.js";
import { chip, h } from "./dom.js";
import { when } from "./format.js";

const STAGES = ["development", "staging", "canary", "production", "deprecated"];
const FILTERS = ["name_prefix", "label", "owner", "stage", "hardware_profile", "status", "sort"];

export function versionLink(v) {
  return `#/models/${encodeURIComponent(v.model_name)}/versions/${encodeURIComponent(v.version)}`;
}

function input(name, label, value, extra = {}) {
  return h("div", { class: "field" },
    h("label", { for: `q-${name}`, text: label }),
    h("input", { id: `q-${name}`, name, type: "search", value: value || "", autocomplete: "off", ...extra }));
}

function select(name, label, value, options) {
  return h("div", { class: "field" },
    h("label", { for: `q-${name}`, text: label }),
    h("select", { id: `q-${name}`, name }, options.map(([v, text]) => h("option", { value: v, selected: v === (value || ""), text }))));
}

/** Rows of versions with a compare checkbox each; `selected` collects "name@version". */
export function versionRows(items, selected, onSelect) {
  return items.map((v) => {
    const key = `${v.model_name}@${v.version}`;
    const box = h("input", { type: "checkbox", "aria-label": `select ${v.model_name} ${v.version} to compare`, checked: selected.has(key) });
    box.addEventListener("change", () => {
      if (box.checked) selected.add(key); else selected.delete(key);
      onSelect();
    });
    return h("tr", {},
      h("td", {}, box),
      h("td", {}, h("a", { href: `#/models/${encodeURIComponent(v.model_name)}`, text: v.model_name })),
      h("td", {}, h("a", { href: versionLink(v), text: v.version })),
      h("td", {}, chip(v.status, `status ${v.status.toLowerCase()}`)),
      h("td", {}, v.stage ? chip(v.stage, `stage ${v.stage}`) : "—"),
      h("td", { text: v.hardware_profiles.join(", ") || "—" }),
      h("td", { text: when(v.created_at) }));
  });
}

export function versionTable(caption, body) {
  return h("div", { class: "scroll" }, h("table", { class: "versions" },
    h("caption", { class: "visually-hidden", text: caption }),
    h("thead", {}, h("tr", {}, ["compare", "model", "version", "status", "stage", "hardware", "created"].map((t) => h("th", { scope: "col", text: t })))),
    body));
}

export async function catalogView(app, query) {
  const everything = can(app.me, "submission:read");
  const form = h("form", { class: "filters", role: "search", "aria-label": "search versions" },
    input("name_prefix", "Name starts with", query.get("name_prefix")),
    input("label", "Label (key:value)", query.get("label"), { pattern: "[^:]+:.*" }),
    input("owner", "Owner", query.get("owner")),
    select("stage", "Stage", query.get("stage"), [["", "any stage"], ...STAGES.map((s) => [s, s])]),
    input("hardware_profile", "Hardware profile", query.get("hardware_profile")),
    everything ? select("status", "Status", query.get("status"), [["", "registered"], ...app.statuses.map((s) => [s, s])]) : null,
    select("sort", "Sort", query.get("sort"), [["-created_at", "newest first"], ["created_at", "oldest first"], ["-updated_at", "recently changed"], ["version", "version"]]),
    h("button", { type: "submit", class: "primary", text: "Search" }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const [key, value] of new FormData(form).entries()) if (value) params.set(key, String(value));
    location.hash = `#/?${params}`;
  });

  const selected = new Set();
  const compare = h("button", { type: "button", class: "secondary", text: "Compare selected", disabled: true });
  const onSelect = () => { compare.disabled = selected.size !== 2; };
  compare.addEventListener("click", () => {
    const [left, right] = [...selected];
    location.hash = `#/compare?${new URLSearchParams({ left, right })}`;
  });
  const body = h("tbody");
  const more = h("button", { type: "button", class: "secondary", text: "More", hidden: true });
  const note = h("p", { class: "muted", role: "status" });
  let cursor = null;
  const load = async () => {
    const params = new URLSearchParams({ limit: "25" });
    for (const key of FILTERS) if (query.get(key)) params.set(key, query.get(key));
    if (cursor) params.set("cursor", cursor);
    const page = await registry.get("/api/v1/versions", params);
    body.append(...versionRows(page.items, selected, onSelect));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    note.textContent = body.children.length ? `${body.children.length} version${body.children.length === 1 ? "" : "s"}${cursor ? " so far" : ""}.` : "No version matches.";
  };
  more.addEventListener("click", () => load().catch((e) => app.fail(e)));
  await load();
  return h("div", {},
    h("h1", { tabindex: "-1", text: "Catalog" }),
    h("p", { class: "muted", text: everything ? "Every version, whatever its status (your role sees them all)." : "Approved (registered) versions." }),
    form,
    h("div", { class: "toolbar" }, compare, h("span", { class: "muted", text: "select two rows to compare" })),
    versionTable("Versions", body), note, more);
}

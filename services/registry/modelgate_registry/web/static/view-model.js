// A model page: #/models/NAME — its versions, aliases and where it runs.
import { can } from "./actions.js";
import { modelPath, registry } from "./api.js";
import { definitions, h, section, table } from "./dom.js";
import { when } from "./format.js";
import { labelChips } from "./sections.js";
import { versionRows, versionTable } from "./view-catalog.js";

export async function modelView(app, name) {
  const everything = can(app.me, "submission:read");
  const params = new URLSearchParams({ limit: "100" });
  if (everything) for (const status of app.statuses) params.append("status", status);
  const [model, page] = await Promise.all([
    registry.get(modelPath(name)),
    registry.get(modelPath(name, "/versions"), params),
  ]);
  const selected = new Set();
  const compare = h("button", { type: "button", class: "secondary", text: "Compare selected", disabled: true });
  compare.addEventListener("click", () => {
    const [left, right] = [...selected];
    location.hash = `#/compare?${new URLSearchParams({ left, right })}`;
  });
  return h("article", {},
    h("nav", { class: "crumbs", "aria-label": "breadcrumb" }, h("a", { href: "#/", text: "Catalog" })),
    h("h1", { tabindex: "-1", text: model.name }),
    labelChips(model.labels),
    h("div", { class: "grid" },
      section("Model", definitions([
        ["Description", model.description], ["Owner", model.owner], ["License", model.license],
        ["State", model.state], ["Created", `${when(model.created_at)} by ${model.created_by}`],
        ["Versions", Object.entries(model.versions_by_status).map(([k, n]) => `${k}: ${n}`).join(", ")],
      ])),
      section("Aliases", model.aliases.length
        ? table("Aliases", ["alias", "version", "set by", "when"], model.aliases.map((a) => [
          a.alias, h("a", { href: `#/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(a.version)}`, text: a.version }),
          a.updated_by, when(a.updated_at)]))
        : h("p", { class: "muted", text: "No alias." }),
      model.running.length
        ? table("Running where", ["environment", "version", "since"], model.running.map((d) => [d.environment, d.version, when(d.deployed_at)]))
        : h("p", { class: "muted", text: "Not deployed anywhere." }))),
    section("Versions",
      h("div", { class: "toolbar" }, compare),
      versionTable(`Versions of ${name}`, h("tbody", {}, versionRows(page.items, selected, () => { compare.disabled = selected.size !== 2; })))));
}

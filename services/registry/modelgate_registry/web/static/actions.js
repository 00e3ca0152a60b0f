// The commands a version page offers, each only where the caller's permissions and the
// version's state allow it; the server decides anyway, and its refusal is shown as it said it.
import { modelPath, registry, versionPath } from "./api.js";
import { confirmAction } from "./dialog.js";
import { h } from "./dom.js";

export function can(me, permission) {
  return Boolean(me) && me.permissions.includes(permission);
}

// The registry's stage moves (stages.py), and the SDK's path for a promotion several stages on.
const FORWARD = ["development", "staging", "canary", "production"];
const ALLOWED = {
  development: ["staging"],
  staging: ["development", "canary", "production"],
  canary: ["staging", "production"],
  production: ["canary", "deprecated"],
  deprecated: ["staging", "production"],
};

export function stagePath(current, target) {
  if (current === target) return [];
  if (current === "deprecated" || !FORWARD.includes(current) || !FORWARD.includes(target)) return [target];
  const start = FORWARD.indexOf(current);
  const end = FORWARD.indexOf(target);
  if (end < start) return [target];
  return FORWARD.slice(start + 1, end + 1).filter((stage) => stage !== "canary" || stage === target);
}

/** The version that held production before `current` (the SDK's rule): the one that most
 * recently left production for deprecated. */
export async function previousProduction(name, current) {
  const params = new URLSearchParams({ model: name, stage: "deprecated", limit: "500" });
  const retired = await registry.get("/api/v1/versions", params);
  let best = null;
  for (const candidate of retired.items) {
    if (candidate.version === current) continue;
    const detail = await registry.get(versionPath(name, candidate.version));
    for (const t of detail.transitions) {
      const left = t.kind === "stage" && t.from_value === "production" && t.to_value === "deprecated";
      if (left && (!best || t.at > best.at)) best = { at: t.at, version: candidate.version };
    }
  }
  return best && best.version;
}

async function transition(name, version, stage, reason) {
  return registry.post(versionPath(name, version, "/transitions"), { to_stage: stage, reason });
}

function button(label, onclick, kind = "secondary") {
  return h("button", { type: "button", class: kind, text: label, onclick });
}

/** The action buttons for version `v` of `model`; `done(message)` re-renders afterwards. */
export function versionActions(me, v, model, done) {
  const name = v.model_name;
  const label = `${name} ${v.version}`;
  const buttons = [];
  const ask = async (spec, message) => {
    if (await confirmAction(spec)) done(message);
  };

  if (v.status === "PENDING_REVIEW" && can(me, "model:review")) {
    buttons.push(...reviewButtons(v, done));
  }
  if (v.status === "REGISTERED" && can(me, "model:transition")) {
    const stage = v.stage || "development";
    if (stage !== "production") {
      buttons.push(button("Promote to production", () => ask({
        title: `Promote ${label} to production`,
        message: `Moves it ${[stage, ...stagePath(stage, "production")].join(" → ")}; the current production version becomes deprecated. Four-eyes: you may not promote a version you submitted or uploaded.`,
        fields: [{ name: "reason", label: "Reason", type: "textarea", required: true }],
        confirm: "Promote",
        run: async ({ reason }) => {
          for (const next of stagePath(stage, "production")) await transition(name, v.version, next, reason);
        },
      }, `${label} is in production`), "primary"));
    } else {
      buttons.push(button("Roll back", async () => {
        const previous = await previousProduction(name, v.version).catch(() => null);
        if (!previous) {
          await confirmAction({ title: "Nothing to roll back to", message: `${name} has no earlier production version.`, confirm: "OK", run: async () => true });
          return;
        }
        await ask({
          title: `Roll back ${name} to ${previous}`,
          message: `${previous} goes back to production, ${v.version} becomes deprecated and the production alias follows.`,
          fields: [{ name: "reason", label: "Reason", type: "textarea", required: true, value: `${v.version} rolled back from the web catalog` }],
          confirm: `Roll back to ${previous}`,
          danger: true,
          run: ({ reason }) => transition(name, previous, "production", `rollback: ${reason}`),
        }, `${name} rolled back to ${previous}`);
      }, "danger"));
    }
    buttons.push(button("Move stage…", () => ask({
      title: `Move ${label} to another stage`,
      fields: [
        { name: "stage", label: "To stage", type: "select", options: ALLOWED[stage] || [] },
        { name: "reason", label: "Reason", type: "textarea", required: true },
      ],
      confirm: "Move",
      run: ({ stage: to, reason }) => transition(name, v.version, to, reason),
    }, `${label} moved`)));
  }
  if (v.status === "REGISTERED" && can(me, "alias:set")) {
    const existing = model.aliases.map((a) => a.alias).filter((a) => a !== "production");
    buttons.push(button("Set alias…", () => ask({
      title: `Point an alias at ${label}`,
      message: "An alias that points at another version moves here. The production alias moves only with a promotion.",
      fields: [
        { name: "alias", label: "Alias", required: true, pattern: "[a-z][a-z0-9\\-]{0,62}", suggestions: existing },
        { name: "reason", label: "Reason", type: "textarea" },
      ],
      confirm: "Set alias",
      run: ({ alias, reason }) => registry.put(modelPath(name, `/aliases/${encodeURIComponent(alias)}`), { version: v.version, reason }),
    }, "alias set")));
  }
  if (v.status === "REGISTERED" && can(me, "deployment:record")) {
    buttons.push(button("Record deployment…", () => ask({
      title: `Record a deployment of ${label}`,
      fields: [
        { name: "environment", label: "Environment", required: true, pattern: "[A-Za-z0-9][A-Za-z0-9._\\-]{0,62}" },
        { name: "note", label: "Note", type: "textarea" },
      ],
      confirm: "Record",
      run: ({ environment, note }) => registry.post(versionPath(name, v.version, "/deployments"), { environment, note }),
    }, "deployment recorded")));
  }
  if (can(me, "model:archive")) {
    const archived = v.status === "ARCHIVED";
    buttons.push(button(archived ? "Restore" : "Archive", () => ask({
      title: `${archived ? "Restore" : "Archive"} ${label}`,
      message: archived ? "It returns to the status it had." : "It leaves the catalog (kept for compliance, never erased).",
      fields: [{ name: "reason", label: "Reason", type: "textarea", required: true }],
      confirm: archived ? "Restore" : "Archive",
      danger: !archived,
      run: ({ reason }) => registry.post(versionPath(name, v.version, archived ? "/restore" : "/archive"), { reason }),
    }, `${label} ${archived ? "restored" : "archived"}`), archived ? "secondary" : "danger"));
  }
  return buttons;
}

/** Approve and reject, for the version page and the review queue. */
export function reviewButtons(v, done) {
  const label = `${v.model_name} ${v.version}`;
  const review = (decision) => async () => {
    const answer = await confirmAction({
      title: `${decision === "approve" ? "Approve" : "Reject"} ${label}`,
      message: decision === "approve"
        ? "It becomes REGISTERED: visible to every role and deployable. Four-eyes: not your own submission."
        : "It becomes REJECTED, with your reason, and stays out of the catalog.",
      fields: [{ name: "reason", label: "Reason", type: "textarea", required: true }],
      confirm: decision === "approve" ? "Approve" : "Reject",
      danger: decision === "reject",
      run: ({ reason }) => registry.post(versionPath(v.model_name, v.version, "/review"), { decision, reason }),
    });
    if (answer) done(`${label} ${decision === "approve" ? "approved" : "rejected"}`);
  };
  return [
    button("Approve", review("approve"), "primary"),
    button("Reject", review("reject"), "danger"),
  ];
}

/** The alias chips of a version, each with a delete button for whoever may set aliases. */
export function aliasChips(me, v, done) {
  return v.aliases.map((alias) => {
    const chip = h("span", { class: `chip alias ${alias}`, text: `alias: ${alias}` });
    if (alias === "production" || !can(me, "alias:set")) return chip;
    chip.append(h("button", {
      type: "button", class: "chip-remove", "aria-label": `Delete alias ${alias}`, text: "×",
      onclick: async () => {
        const answer = await confirmAction({
          title: `Delete alias ${alias}`,
          message: `${alias} will point nowhere; ${v.model_name} ${v.version} itself is not changed.`,
          fields: [{ name: "reason", label: "Reason", type: "textarea" }],
          confirm: "Delete alias",
          danger: true,
          run: ({ reason }) => registry.delete(`${modelPath(v.model_name, `/aliases/${encodeURIComponent(alias)}`)}?${new URLSearchParams({ reason: reason || "" })}`),
        });
        if (answer) done(`alias ${alias} deleted`);
      },
    }));
    return chip;
  });
}

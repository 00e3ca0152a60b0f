// The review queue (admins): #/review — versions that passed validation and wait for a
// person, oldest first, each with its validation report, benchmark and what changed in its
// model card since the previous version; approve or reject from here.
import { reviewButtons } from "./actions.js";
import { registry, versionPath } from "./api.js";
import { chip, definitions, h } from "./dom.js";
import { ago, when } from "./format.js";
import { cardDiff } from "./diff.js";
import { benchmarkSection, validationSection } from "./sections.js";
import { versionLink } from "./view-catalog.js";

async function reviewCard(app, item) {
  // The queue's items carry the card, validation and benchmark; only the previous version's
  // card is fetched, for the diff.
  const previous = item.previous_version
    ? await registry.get(versionPath(item.model_name, item.previous_version)).catch(() => null)
    : null;
  const id = `q-${item.id}`;
  return h("li", {}, h("article", { class: "panel review-item", "aria-labelledby": id },
    h("h2", { id }, h("a", { href: versionLink(item), text: `${item.model_name} ${item.version}` }), " ",
      chip(item.status, `status ${item.status.toLowerCase()}`)),
    definitions([
      ["Waiting", `${ago(item.waiting_since)} (since ${when(item.waiting_since)})`],
      ["Submitted by", item.submitter], ["Uploaded by", item.uploader],
      ["Previous version", item.previous_version || "none: a new model"],
    ]),
    h("div", { class: "actions", role: "group", "aria-label": `review ${item.model_name} ${item.version}` },
      reviewButtons(item, (message) => app.rerender(message))),
    h("details", { open: true },
      h("summary", { text: "Model card changes" }),
      cardDiff(previous ? previous.model_card : null, item.model_card,
        previous ? `${previous.model_name} ${previous.version}` : null)),
    h("div", { class: "grid" }, validationSection(item), benchmarkSection(item))));
}

export async function queueView(app, query) {
  const list = h("ol", { class: "queue", "aria-label": "versions waiting for review, oldest first" });
  const more = h("button", { type: "button", class: "secondary", text: "More", hidden: true });
  const note = h("p", { class: "muted", role: "status" });
  let cursor = query.get("cursor");
  const load = async () => {
    const params = new URLSearchParams({ limit: "10" });
    if (cursor) params.set("cursor", cursor);
    const page = await registry.get("/api/v1/review-queue", params);
    for (const item of page.items) list.append(await reviewCard(app, item));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    note.textContent = list.children.length ? `${list.children.length} waiting${cursor ? " so far" : ""}.` : "Nothing waits for review.";
  };
  more.addEventListener("click", () => load().catch((e) => app.fail(e)));
  await load();
  return h("div", {},
    h("h1", { tabindex: "-1", text: "Review queue" }),
    h("p", { class: "muted", text: "Versions that passed validation and wait for an admin, oldest first. Four-eyes: nobody approves what they submitted or uploaded." }),
    note, list, more);
}

// The model card against the previous version's, line by line (a longest-common-subsequence
// diff of "field: value" lines): what a reviewer needs to see changed.
import { h } from "./dom.js";

/** A card as sorted "field: value" lines; nested objects flattened as field.key. */
export function cardLines(card, prefix = "") {
  const lines = [];
  for (const key of Object.keys(card || {}).sort()) {
    const value = card[key];
    const name = `${prefix}${key}`;
    if (value && typeof value === "object" && !Array.isArray(value)) {
      lines.push(...cardLines(value, `${name}.`));
    } else if (value !== null && value !== undefined && value !== "") {
      const text = Array.isArray(value) ? value.join(", ") : String(value);
      for (const part of text.split("\n")) lines.push(`${name}: ${part}`);
    }
  }
  return lines;
}

/** [[" "|"-"|"+", line], ...] turning `before` into `after`. */
export function diffLines(before, after) {
  const n = before.length;
  const m = after.length;
  const common = Array.from({ length: n + 1 }, () => new Array(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i -= 1) {
    for (let j = m - 1; j >= 0; j -= 1) {
      common[i][j] = before[i] === after[j] ? common[i + 1][j + 1] + 1
        : Math.max(common[i + 1][j], common[i][j + 1]);
    }
  }
  const out = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && before[i] === after[j]) {
      out.push([" ", before[i]]);
      i += 1;
      j += 1;
    } else if (i < n && (j >= m || common[i + 1][j] >= common[i][j + 1])) {
      out.push(["-", before[i]]); // the old line first, as diff(1) shows a change
      i += 1;
    } else {
      out.push(["+", after[j]]);
      j += 1;
    }
  }
  return out;
}

export function cardDiff(previousCard, card, previousLabel) {
  const lines = diffLines(cardLines(previousCard), cardLines(card));
  const changed = lines.filter(([mark]) => mark !== " ").length;
  const summary = previousLabel
    ? `${changed} changed line${changed === 1 ? "" : "s"} against ${previousLabel}`
    : "no previous version: the whole card is new";
  return h("div", { class: "diff-wrap" },
    h("p", { class: "muted", text: summary }),
    h("pre", { class: "diff", "aria-label": `model card diff: ${summary}` },
      lines.map(([mark, text]) => h("span", {
        class: mark === "+" ? "added" : mark === "-" ? "removed" : "same",
        text: `${mark} ${text}\n`,
      }))));
}

// Every command goes through a confirmation dialog: it says what will happen, asks for what
// the API needs (a reason, an alias name), and on refusal shows the server's own reason in
// the dialog, which stays open. A native <dialog> keeps focus inside and closes on Escape.
import { h } from "./dom.js";

let counter = 0;

function field(spec) {
  counter += 1;
  const id = `f-${spec.name}-${counter}`;
  const common = { id, name: spec.name, required: spec.required || false };
  let input;
  if (spec.type === "select") {
    input = h("select", common, spec.options.map((option) =>
      h("option", { value: option, selected: option === spec.value, text: option })));
  } else if (spec.type === "textarea") {
    input = h("textarea", { ...common, rows: 3, text: spec.value || "" });
  } else {
    input = h("input", { ...common, type: "text", value: spec.value || "", autocomplete: "off",
      list: spec.suggestions ? `${id}-list` : null, pattern: spec.pattern || null });
  }
  return h("div", { class: "field" },
    h("label", { for: id, text: spec.label }), input,
    spec.suggestions ? h("datalist", { id: `${id}-list` }, spec.suggestions.map((v) => h("option", { value: v }))) : null);
}

/**
 * Ask, then run: resolves to what `run(values)` returned, or null when cancelled.
 * `run` may throw an ApiError; its message is shown and the dialog stays open.
 */
export function confirmAction({ title, message, fields = [], confirm = "Confirm", danger = false, run }) {
  return new Promise((resolve) => {
    const error = h("p", { class: "dialog-error", role: "alert" });
    const ok = h("button", { type: "submit", class: danger ? "danger" : "primary", text: confirm });
    const cancel = h("button", { type: "button", class: "secondary", text: "Cancel" });
    const form = h("form", { class: "dialog-form" },
      h("h2", { text: title }),
      message ? h("p", { text: message }) : null,
      fields.map(field), error,
      h("div", { class: "dialog-buttons" }, cancel, ok));
    const dialog = h("dialog", { "aria-label": title }, form);
    let result = null;
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(result);
    });
    cancel.addEventListener("click", () => dialog.close());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const values = Object.fromEntries(new FormData(form).entries());
      ok.disabled = true;
      error.textContent = "";
      try {
        result = (await run(values)) ?? true;
        dialog.close();
      } catch (failure) {
        error.textContent = failure.status ? `Refused (${failure.status}): ${failure.message}` : failure.message;
        ok.disabled = false;
      }
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

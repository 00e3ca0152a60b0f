// Building the page from nodes: API text only ever reaches the DOM as text (textContent,
// attribute values), never as HTML. The CSP's Trusted Types rule makes HTML sinks throw.

/** `h("a", {href: "#/x", class: "c", text: "label", onclick: f}, ...children)` */
export function h(tag, props = {}, ...children) {
  return fill(document.createElement(tag), props, children);
}

const SVG = "http://www.w3.org/2000/svg";

export function s(tag, props = {}, ...children) {
  return fill(document.createElementNS(SVG, tag), props, children);
}

function fill(node, props, children) {
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = String(value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key === "className" ? "class" : key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** A definition list of the pairs whose value is present. */
export function definitions(pairs) {
  const dl = h("dl");
  for (const [key, value] of pairs) {
    if (value === undefined || value === null || value === "") continue;
    dl.append(h("dt", { text: key }), h("dd", {}, value instanceof Node ? value : String(value)));
  }
  return dl;
}

/** A table with a caption (for screen readers) from header names and rows of cells. */
export function table(caption, headers, rows, className = "") {
  return h("div", { class: "scroll" },
    h("table", { class: className },
      h("caption", { class: "visually-hidden", text: caption }),
      h("thead", {}, h("tr", {}, headers.map((name) => h("th", { scope: "col", text: name })))),
      h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell) => h("td", {}, cell)))))));
}

export function chip(text, kind = "") {
  return h("span", { class: `chip ${kind}`.trim(), text });
}

export function section(title, ...children) {
  const id = `s-${title.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
  return h("section", { class: "panel", "aria-labelledby": id },
    h("h2", { id, text: title }), ...children);
}

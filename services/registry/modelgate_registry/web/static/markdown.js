// A small Markdown renderer that builds DOM nodes from text: headings, paragraphs, lists,
// block quotes, code blocks, and inline code, emphasis and links. No HTML in the source is
// ever interpreted (it shows as the text it is), and links keep only http(s) and mailto
// targets. A library would bring an HTML sanitiser we would then have to trust.
import { h } from "./dom.js";

const INLINE = /(`[^`]+`)|(\*\*[^*]+\*\*)|(__[^_]+__)|(\*[^*\s][^*]*\*)|(_[^_\s][^_]*_)|(\[[^\]]+\]\([^)\s]+\))/;
const SAFE_LINK = /^(https?:\/\/|mailto:)/i;

function inline(text) {
  const nodes = [];
  let rest = text;
  while (rest) {
    const match = INLINE.exec(rest);
    if (!match) {
      nodes.push(rest);
      break;
    }
    if (match.index) nodes.push(rest.slice(0, match.index));
    const token = match[0];
    if (match[1]) nodes.push(h("code", { text: token.slice(1, -1) }));
    else if (match[2] || match[3]) nodes.push(h("strong", {}, inline(token.slice(2, -2))));
    else if (match[4] || match[5]) nodes.push(h("em", {}, inline(token.slice(1, -1))));
    else {
      const [, label, target] = /^\[([^\]]+)\]\(([^)\s]+)\)$/.exec(token);
      nodes.push(SAFE_LINK.test(target)
        ? h("a", { href: target, rel: "noopener noreferrer nofollow", target: "_blank" }, inline(label))
        : label);
    }
    rest = rest.slice(match.index + token.length);
  }
  return nodes;
}

/** The rendered Markdown as a <div class="markdown">. */
export function markdown(source) {
  const root = h("div", { class: "markdown" });
  const lines = String(source || "").replace(/\r\n?/g, "\n").split("\n");
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      i += 1;
    } else if (line.startsWith("```")) {
      const code = [];
      for (i += 1; i < lines.length && !lines[i].startsWith("```"); i += 1) code.push(lines[i]);
      i += 1;
      root.append(h("pre", {}, h("code", { text: code.join("\n") })));
    } else if (/^#{1,6}\s/.test(line)) {
      // Card headings sit below the page's own: start at h3.
      const level = Math.min(6, line.indexOf(" ") + 2);
      root.append(h(`h${level}`, {}, inline(line.replace(/^#+\s+/, ""))));
      i += 1;
    } else if (/^\s*([-*+]|\d+[.)])\s/.test(line)) {
      const ordered = /^\s*\d/.test(line);
      const list = h(ordered ? "ol" : "ul");
      for (; i < lines.length && /^\s*([-*+]|\d+[.)])\s/.test(lines[i]); i += 1) {
        list.append(h("li", {}, inline(lines[i].replace(/^\s*([-*+]|\d+[.)])\s+/, ""))));
      }
      root.append(list);
    } else if (line.startsWith(">")) {
      const quoted = [];
      for (; i < lines.length && lines[i].startsWith(">"); i += 1) quoted.push(lines[i].replace(/^>\s?/, ""));
      root.append(h("blockquote", {}, markdown(quoted.join("\n"))));
    } else {
      const paragraph = [];
      for (; i < lines.length && lines[i].trim() && !/^(#{1,6}\s|```|>|\s*([-*+]|\d+[.)])\s)/.test(lines[i]); i += 1) {
        paragraph.push(lines[i].trim());
      }
      root.append(h("p", {}, inline(paragraph.join(" "))));
    }
  }
  return root;
}

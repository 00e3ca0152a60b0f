// The web catalog's entry point: sign-in (auth.js: the identity provider, or a pasted API key),
// who the caller is (GET /api/v1/me), the navigation their role gets, and the hash router
// (#/models/NAME/versions/V is a deep link).
import { can } from "./actions.js";
import { loadConfig, loadStatuses, registry } from "./api.js";
import { configure, providerAvailable, resume, signIn, signOut, signedIn, startSignIn } from "./auth.js";
import { h } from "./dom.js";
import { catalogView } from "./view-catalog.js";
import { compareView } from "./view-compare.js";
import { mineView } from "./view-mine.js";
import { modelView } from "./view-model.js";
import { queueView } from "./view-queue.js";
import { versionView } from "./view-version.js";

const ROUTES = [
  [/^\/models\/([^/]+)\/versions\/([^/]+)$/, (app, m) => versionView(app, m[1], m[2])],
  [/^\/models\/([^/]+)$/, (app, m) => modelView(app, m[1])],
  [/^\/compare$/, (app, m, query) => compareView(app, query)],
  [/^\/review$/, (app, m, query) => queueView(app, query)],
  [/^\/mine$/, (app) => mineView(app)],
  [/^\/?$/, (app, m, query) => catalogView(app, query)],
];

const app = {
  me: null,
  statuses: [],
  view: null,
  status: null,
  /** Render the current route again (after a command), announcing `message`. */
  rerender(message) {
    route().then(() => announce(message));
  },
  fail(error) {
    announce(`Could not load: ${error.message}`, true);
  },
};

function announce(text, error = false) {
  app.status.textContent = text || "";
  app.status.className = error ? "announce error" : "announce";
}

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path, search = ""] = raw.split("?");
  return { path, query: new URLSearchParams(search) };
}

function navigation() {
  const here = parseHash().path;
  const link = (href, text) => h("a", { href, text, "aria-current": `#${here}` === href || (href === "#/" && here === "/") ? "page" : null });
  return [
    link("#/", "Catalog"),
    can(app.me, "model:submit") ? link("#/mine", "My submissions") : null,
    can(app.me, "model:review") ? link("#/review", "Review queue") : null,
    link("#/compare", "Compare"),
  ];
}

async function route() {
  const nav = document.getElementById("nav");
  if (!app.me) {
    nav.replaceChildren();
    app.view.replaceChildren(h("section", { class: "panel" },
      h("h1", { tabindex: "-1", text: "Sign in" }),
      h("p", { text: providerAvailable()
        ? "Sign in with your organisation's account (the button above takes you to the identity provider's login page). An API key may be pasted instead. What you see and may do follows your role."
        : "Paste a bearer token above (for the demo stack: a MODELGATE_*_TOKEN from .local/stack.env). What you see and may do follows your role." })));
    app.view.dataset.rendered = "sign-in";
    return;
  }
  nav.replaceChildren(...navigation().filter(Boolean));
  const { path, query } = parseHash();
  const decoded = path.split("/").map((part) => {
    try { return decodeURIComponent(part); } catch { return part; }
  }).join("/");
  for (const [pattern, render] of ROUTES) {
    const match = pattern.exec(path);
    if (!match) continue;
    const params = match.map((part, i) => (i ? decodeURIComponent(part) : part));
    app.view.setAttribute("aria-busy", "true");
    try {
      const content = await render(app, params, query);
      app.view.replaceChildren(content);
      const heading = app.view.querySelector("h1");
      if (heading) heading.focus({ preventScroll: true });
      document.title = `${heading ? heading.textContent : "Modelgate"} · Modelgate catalog`;
    } catch (error) {
      app.view.replaceChildren(h("section", { class: "panel" },
        h("h1", { tabindex: "-1", text: error.status === 404 ? "Not found" : "Could not load this page" }),
        h("p", { class: "error", role: "alert", text: error.message })));
    } finally {
      // Which route the view shows now: tests (and anyone scripting the page) wait on it.
      app.view.dataset.rendered = location.hash || "#/";
      app.view.removeAttribute("aria-busy");
    }
    return;
  }
  app.view.replaceChildren(h("h1", { tabindex: "-1", text: `No page at ${decoded}` }));
  app.view.dataset.rendered = location.hash;
}

async function identify() {
  const who = document.getElementById("whoami");
  const out = document.getElementById("signout");
  app.me = null;
  if (signedIn()) {
    try {
      app.me = await registry.get("/api/v1/me");
    } catch (error) {
      signOut();
      announce(`Sign-in refused: ${error.message}`, true);
    }
  }
  who.textContent = app.me ? `${app.me.subject} (${app.me.roles.join(", ")})` : "";
  out.hidden = !app.me;
  const keyForm = document.getElementById("api-key");
  keyForm.hidden = Boolean(app.me);
  // Without a provider the pasted token is the only way in: shown open, not as the fallback.
  if (!providerAvailable()) keyForm.open = true;
  document.getElementById("oidc-signin").hidden = Boolean(app.me) || !providerAvailable();
}

/** The provider's session ended under the page (a refresh refused): back to signing in. */
async function sessionEnded(message) {
  await identify();
  announce(message, true);
  await route();
}

document.addEventListener("DOMContentLoaded", async () => {
  app.view = document.getElementById("view");
  app.status = document.getElementById("status");
  // The skip link moves focus only: its #view would otherwise be read as a route.
  document.querySelector(".skip").addEventListener("click", (event) => {
    event.preventDefault();
    app.view.focus();
  });
  document.getElementById("login").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = document.getElementById("token");
    signIn(input.value);
    input.value = "";
    await identify();
    announce(app.me ? `Signed in as ${app.me.subject}` : document.getElementById("status").textContent, !app.me);
    await route();
  });
  document.getElementById("oidc-signin").addEventListener("click", () => startSignIn());
  document.getElementById("signout").addEventListener("click", async () => {
    if (signOut()) return; // off to the provider's end-session page, which sends us back
    await identify();
    announce("Signed out");
    await route();
  });
  window.addEventListener("hashchange", () => {
    announce("");
    route();
  });
  // Listeners first: a form submitted before them would be a navigation the CSP refuses.
  const [config, statuses] = await Promise.all([loadConfig(), loadStatuses()]);
  app.statuses = statuses;
  let message = null;
  try {
    await configure(config, sessionEnded);
    message = await resume();
  } catch (error) {
    message = `Sign-in with the identity provider is unavailable: ${error.message}`;
  }
  await identify();
  if (message) announce(message, true);
  await route();
});

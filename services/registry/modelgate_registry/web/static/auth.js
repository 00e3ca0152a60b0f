// Sign-in: the one module that holds a bearer token. Two ways in:
//
// - OpenID Connect (the primary one, when /web-config.json names a provider): the
//   authorization-code flow with PKCE (S256) against the provider's own login page. The code
//   comes back in the query of our redirect URI (the catalog's root) and is exchanged at once;
//   the address is cleaned with history.replaceState, so no code or token stays in the URL or
//   the history. The access, refresh and ID tokens live in this module's memory only (never
//   localStorage nor sessionStorage): another script of the origin (there is none: the CSP
//   allows our modules alone) could not read them from storage, and closing the tab drops
//   them. The access token is refreshed before it expires. What survives a reload is a flag
//   in sessionStorage saying "signed in with the provider": the page then asks the provider
//   again with prompt=none, which its session cookie answers without a password prompt.
//   Between the redirect and the return, sessionStorage holds the PKCE verifier and state of
//   that one attempt (useless without the code, removed on return).
// - A pasted token (API keys: machines, or a stack without a provider): kept for this tab in
//   sessionStorage as before, sent only to our own APIs.
const PASTED = "modelgate-token";
const RESUME = "modelgate-oidc-signed-in";
const PENDING = "modelgate-oidc-pending";
/** Refresh this long before expiry at least (and at 80% of the lifetime for short tokens). */
const EARLY_S = 30;

let provider = null; // { issuer, clientId, endpoints }
let tokens = null; // { access, refresh, id, expiresAt }
let refreshTimer = null;
let onEnded = () => {};

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

async function challengeOf(verifier) {
  return base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
}

function redirectUri() {
  return `${location.origin}/`;
}

/** The provider of /web-config.json, its endpoints from discovery; null: pasted tokens only.
 * `ended` is called when the provider's session ends under the page (a refresh refused). */
export async function configure(config, ended) {
  onEnded = ended || onEnded;
  if (!config || !config.oidc_issuer || !config.oidc_client_id) return;
  const issuer = config.oidc_issuer.replace(/\/$/, "");
  const answer = await fetch(`${issuer}/.well-known/openid-configuration`);
  if (!answer.ok) throw new Error(`the identity provider's discovery answered HTTP ${answer.status}`);
  const discovered = await answer.json();
  if (discovered.issuer.replace(/\/$/, "") !== issuer) {
    throw new Error(`the identity provider calls itself ${discovered.issuer}, not ${issuer}`);
  }
  provider = { issuer: discovered.issuer, clientId: config.oidc_client_id, endpoints: discovered };
}

export function providerAvailable() {
  return provider !== null;
}

/** Off to the provider's login page; `route` (the hash) is where to come back to. */
export async function startSignIn(route = location.hash, { silent = false } = {}) {
  const verifier = randomString();
  const state = randomString();
  sessionStorage.setItem(PENDING, JSON.stringify({ state, verifier, route }));
  const query = new URLSearchParams({
    response_type: "code",
    client_id: provider.clientId,
    redirect_uri: redirectUri(),
    scope: "openid",
    state,
    code_challenge: await challengeOf(verifier),
    code_challenge_method: "S256",
  });
  if (silent) query.set("prompt", "none");
  location.assign(`${provider.endpoints.authorization_endpoint}?${query}`);
}

async function tokenRequest(fields) {
  const answer = await fetch(provider.endpoints.token_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ client_id: provider.clientId, ...fields }),
  });
  const body = await answer.json().catch(() => ({}));
  if (!answer.ok) {
    throw new Error(body.error_description || body.error || `the provider answered HTTP ${answer.status}`);
  }
  return body;
}

function keep(body) {
  const lifetime = Number(body.expires_in) || 60;
  tokens = {
    access: body.access_token,
    refresh: body.refresh_token || (tokens && tokens.refresh),
    id: body.id_token || (tokens && tokens.id),
    expiresAt: Date.now() + lifetime * 1000,
  };
  clearTimeout(refreshTimer);
  const wait = Math.max(5, Math.min(lifetime - EARLY_S, lifetime * 0.8));
  if (tokens.refresh) refreshTimer = setTimeout(refresh, wait * 1000);
}

/** A new access token from the refresh token (the timer's job; also callable to test it). */
export async function refresh() {
  if (!tokens || !tokens.refresh) return false;
  try {
    keep(await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh }));
    return true;
  } catch (error) {
    forget();
    onEnded(`Your session with the identity provider ended (${error.message}); sign in again.`);
    return false;
  }
}

/** After a 401: renew once if signed in with the provider (a timer in a background tab may
 * fire late, when the token has already expired). True: retry the call. */
export async function renewAfterRefusal() {
  return Boolean(tokens && tokens.refresh) && refresh();
}

function forget() {
  tokens = null;
  clearTimeout(refreshTimer);
  sessionStorage.removeItem(RESUME);
}

/** After a load: take the code the provider sent back (then clean the address), or ask the
 * provider again after a reload. Returns a message to show, or null. Resolves never when it
 * navigates away. */
export async function resume() {
  if (!provider) return null;
  const query = new URLSearchParams(location.search);
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
  if (query.has("state") && (query.has("code") || query.has("error"))) {
    sessionStorage.removeItem(PENDING);
    // The code, state and error leave the address (and the history entry) before anything else.
    history.replaceState(null, "", `${location.pathname}${pending ? pending.route : ""}`);
    if (!pending || query.get("state") !== pending.state) {
      return "Sign-in refused: the provider's answer does not match a sign-in this tab started.";
    }
    if (query.has("iss") && query.get("iss") !== provider.issuer) {
      return "Sign-in refused: the answer came from another identity provider.";
    }
    if (query.has("error")) {
      sessionStorage.removeItem(RESUME);
      // prompt=none after a reload: no session at the provider any more is no error to show.
      const silent = ["login_required", "interaction_required", "consent_required"];
      return silent.includes(query.get("error"))
        ? null
        : `Sign-in refused by the provider: ${query.get("error_description") || query.get("error")}`;
    }
    try {
      keep(await tokenRequest({
        grant_type: "authorization_code",
        code: query.get("code"),
        redirect_uri: redirectUri(),
        code_verifier: pending.verifier,
      }));
    } catch (error) {
      return `Sign-in refused by the provider: ${error.message}`;
    }
    sessionStorage.removeItem(PASTED);
    sessionStorage.setItem(RESUME, "1");
    return null;
  }
  if (!tokens && sessionStorage.getItem(RESUME)) {
    await startSignIn(location.hash, { silent: true });
    return new Promise(() => {}); // the page is leaving
  }
  return null;
}

export function signedIn() {
  return tokens !== null || sessionStorage.getItem(PASTED) !== null;
}

/** A pasted token (an API key): the secondary way in. */
export function signIn(token) {
  forget();
  sessionStorage.setItem(PASTED, token.trim());
}

/** Forget every token; with the provider, end its session too (a navigation: its page comes
 * back to the catalog's root). */
export function signOut() {
  const idToken = tokens && tokens.id;
  const viaProvider = tokens !== null;
  forget();
  sessionStorage.removeItem(PASTED);
  const endSession = provider && provider.endpoints.end_session_endpoint;
  if (viaProvider && endSession) {
    const query = new URLSearchParams({ client_id: provider.clientId, post_logout_redirect_uri: redirectUri() });
    if (idToken) query.set("id_token_hint", idToken);
    location.assign(`${endSession}?${query}`);
    return true;
  }
  return false;
}

/** The headers every API call carries, `extra` included. */
export function authorized(extra = {}) {
  const token = tokens ? tokens.access : sessionStorage.getItem(PASTED);
  return { ...extra, Authorization: `Bearer ${token || ""}` };
}

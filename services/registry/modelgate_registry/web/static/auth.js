// Sign-in: the one module that holds the bearer token. Today a pasted token kept for this tab
// (sessionStorage: gone when the tab closes, never sent anywhere but our own APIs); an OIDC
// flow replaces this module alone, behind the same four functions.
const KEY = "modelgate-token";

export function signedIn() {
  return sessionStorage.getItem(KEY) !== null;
}

export function signIn(token) {
  sessionStorage.setItem(KEY, token.trim());
}

export function signOut() {
  sessionStorage.removeItem(KEY);
}

/** The headers every API call carries, `extra` included. */
export function authorized(extra = {}) {
  return { ...extra, Authorization: `Bearer ${sessionStorage.getItem(KEY) || ""}` };
}

// Calls to the registry's native API (/api/v1, the SDK's API) and the audit service.
// A refusal becomes an ApiError carrying the server's own message, which the page shows as is.
import { authorized, renewAfterRefusal } from "./auth.js";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let auditBase = null;

/** The registry's configuration for the page: where the audit service is (null: not
 * offered) and which identity provider to sign in with. */
export async function loadConfig() {
  const answer = await fetch("/web-config.json");
  const config = answer.ok ? await answer.json() : {};
  auditBase = config.audit_url || null;
  return config;
}

/** The version statuses this registry knows, from its OpenAPI document (the review step adds
 * one; the page follows whatever the server it talks to says). */
export async function loadStatuses() {
  const answer = await fetch("/openapi.json");
  const schema = answer.ok ? (await answer.json()).components.schemas.VersionStatus : null;
  return schema && schema.enum ? schema.enum : ["PENDING", "VALIDATING", "REGISTERED", "REJECTED", "ARCHIVED"];
}

export function auditAvailable() {
  return Boolean(auditBase);
}

async function call(base, method, path, body) {
  const headers = authorized(body === undefined ? {} : { "Content-Type": "application/json" });
  const init = { method, headers };
  if (body !== undefined) init.body = JSON.stringify(body);
  let answer = await fetch(`${base}${path}`, init);
  if (answer.status === 401 && (await renewAfterRefusal())) {
    answer = await fetch(`${base}${path}`, { ...init, headers: authorized(init.headers) });
  }
  if (answer.status === 204) return null;
  let payload = null;
  try {
    payload = await answer.json();
  } catch {
    payload = null;
  }
  if (!answer.ok) {
    const message = payload && (payload.message || payload.detail);
    throw new ApiError(answer.status, typeof message === "string" ? message : `HTTP ${answer.status}`);
  }
  return payload;
}

/** `/api/v1/models/NAME/versions/V...`, each part encoded. */
export function versionPath(name, version, rest = "") {
  return `/api/v1/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}${rest}`;
}

export function modelPath(name, rest = "") {
  return `/api/v1/models/${encodeURIComponent(name)}${rest}`;
}

export const registry = {
  get: (path, params) => call("", "GET", params ? `${path}?${params}` : path),
  post: (path, body) => call("", "POST", path, body),
  put: (path, body) => call("", "PUT", path, body),
  delete: (path) => call("", "DELETE", path),
};

export const audit = {
  get: (path, params) => call(auditBase, "GET", params ? `${path}?${params}` : path),
};

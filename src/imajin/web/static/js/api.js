// Calls to the imajin API: the key, JSON in and out, and errors a person can act on.
//
// The key is kept in localStorage and sent as `Authorization: Bearer <key>`.
// `authEvents` tells the page when the key changes or the server refuses it.

const KEY_STORAGE = "imajin.apiKey";

export const authEvents = new EventTarget();

/** What /api/whoami said: whether auth is on and what the current key may do. */
export const session = { authEnabled: null, keyId: null, scopes: [] };

export function getApiKey() {
  try {
    return localStorage.getItem(KEY_STORAGE) ?? "";
  } catch {
    return ""; // storage can be disabled (private modes); the page still works without a key
  }
}

export function setApiKey(key) {
  const trimmed = (key ?? "").trim();
  try {
    if (trimmed) localStorage.setItem(KEY_STORAGE, trimmed);
    else localStorage.removeItem(KEY_STORAGE);
  } catch {
    // Nothing to do: without storage the key lasts until the page closes.
  }
  authEvents.dispatchEvent(new Event("key-changed"));
}

/** Headers that carry the key, or none when no key is set. */
export function authHeaders() {
  const key = getApiKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

export class ApiError extends Error {
  constructor({
    status,
    code,
    message,
    field = null,
    details = [],
    retryAfter = null,
    requestId = null,
  }) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.field = field;
    this.details = details;
    this.retryAfter = retryAfter;
    this.requestId = requestId;
  }
}

const FALLBACK_MESSAGES = {
  401: "This server needs an API key.",
  403: "Your API key may not do this.",
  404: "Not found.",
  429: "The queue is full.",
};

/** Build a same-origin URL; `query` values that are null, undefined or "" are left out. */
export function buildUrl(path, query = {}) {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(query)) {
    for (const one of Array.isArray(value) ? value : [value]) {
      if (one !== null && one !== undefined && one !== "") url.searchParams.append(name, one);
    }
  }
  return url;
}

/**
 * Call the API and return its JSON (null for 204); `body` is sent as JSON, or a FormData as is.
 * Throws ApiError: status 0 for network failures, else the server's {error} body.
 */
export async function api(path, { method = "GET", body, query, signal } = {}) {
  const headers = { Accept: "application/json", ...authHeaders() };
  // A FormData body (an upload) goes as is: fetch sets multipart/form-data and its boundary.
  const isForm = body instanceof FormData;
  if (body !== undefined && !isForm) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(buildUrl(path, query), {
      method,
      headers,
      body: body === undefined || isForm ? body : JSON.stringify(body),
      signal,
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError({
      status: 0,
      code: "network",
      message: "Cannot reach the imajin server. Check that it is running and that you are online.",
    });
  }
  if (!response.ok) throw await errorFrom(response);
  if (response.status === 204) return null;
  return response.json();
}

async function errorFrom(response) {
  let body = {};
  try {
    body = (await response.json()).error ?? {};
  } catch {
    // Not our JSON (a proxy's HTML page, say): fall back to the status alone.
  }
  const retryAfter = Number.parseInt(response.headers.get("Retry-After") ?? "", 10);
  const error = new ApiError({
    status: response.status,
    code: body.code ?? `http_${response.status}`,
    message:
      body.message ??
      FALLBACK_MESSAGES[response.status] ??
      `The server answered ${response.status}.`,
    field: body.field ?? null,
    details: body.details ?? [],
    retryAfter: Number.isFinite(retryAfter) ? retryAfter : null,
    requestId: body.requestId ?? response.headers.get("X-Request-ID"),
  });
  if (response.status === 401) {
    authEvents.dispatchEvent(new CustomEvent("unauthorized", { detail: error }));
  }
  return error;
}

/** Ask the server whether auth is on and what the key may do; updates `session`. */
export async function refreshSession() {
  try {
    const me = await api("/api/whoami");
    Object.assign(session, { authEnabled: me.authEnabled, keyId: me.keyId, scopes: me.scopes });
  } catch (error) {
    if (error.status !== 401) throw error;
    Object.assign(session, { authEnabled: true, keyId: null, scopes: [] });
  }
  authEvents.dispatchEvent(new Event("session"));
  return session;
}

export function isAbort(error) {
  return error?.name === "AbortError";
}

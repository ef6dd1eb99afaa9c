/**
 * The signed-in session: our API's bearer token and when it expires.
 *
 * Kept in localStorage so a reload (or a second tab) stays signed in; it is never put in a URL
 * or a cookie. Subscribers (React, the API client) hear every change, including another tab
 * signing out.
 */

const STORAGE_KEY = "tunewave.session";
const EXPIRY_MARGIN_MS = 5_000;

export interface Session {
  token: string;
  /** Wall-clock expiry in ms since the epoch; null when the token did not say. */
  expiresAtMs: number | null;
}

type Listener = () => void;
const listeners = new Set<Listener>();
let cached: Session | null | undefined;

function read(): Session | null {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Partial<Session>;
    if (typeof parsed.token !== "string" || !parsed.token) return null;
    return {
      token: parsed.token,
      expiresAtMs: typeof parsed.expiresAtMs === "number" ? parsed.expiresAtMs : null,
    };
  } catch {
    return null;
  }
}

/** The `exp` claim of a JWT in ms, without verifying it (the API does that). */
export function jwtExpiryMs(token: string): number | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    const claims = JSON.parse(json) as { exp?: unknown };
    return typeof claims.exp === "number" ? claims.exp * 1000 : null;
  } catch {
    return null;
  }
}

export function getSession(nowMs: number = Date.now()): Session | null {
  if (cached === undefined) cached = read();
  if (cached && cached.expiresAtMs !== null && cached.expiresAtMs - EXPIRY_MARGIN_MS <= nowMs) {
    return null;
  }
  return cached;
}

export function getToken(): string | null {
  return getSession()?.token ?? null;
}

function notify() {
  for (const listener of listeners) listener();
}

/** Store a token; `expiresInS` (from the callback) wins over the token's own `exp`. */
export function signIn(token: string, expiresInS?: number | null, nowMs: number = Date.now()) {
  const expiresAtMs =
    typeof expiresInS === "number" && Number.isFinite(expiresInS) && expiresInS > 0
      ? nowMs + expiresInS * 1000
      : jwtExpiryMs(token);
  cached = { token, expiresAtMs };
  localStorage.setItem(STORAGE_KEY, JSON.stringify(cached));
  notify();
}

export function signOut() {
  cached = null;
  localStorage.removeItem(STORAGE_KEY);
  notify();
}

export function subscribeSession(listener: Listener): () => void {
  listeners.add(listener);
  const onStorage = (event: StorageEvent) => {
    if (event.key === STORAGE_KEY) {
      cached = read();
      listener();
    }
  };
  window.addEventListener("storage", onStorage);
  return () => {
    listeners.delete(listener);
    window.removeEventListener("storage", onStorage);
  };
}

/** Forget the cached copy (tests). */
export function resetSessionCache() {
  cached = undefined;
}

/**
 * The sign-in callback: the API redirects to /signed-in#access_token=…&expires_in=… (or
 * #error=…&error_description=…). The fragment is read once and removed from the address bar
 * and history, so the token is never bookmarked, shared or left in the back button.
 */
const NEXT_KEY = "tunewave.next";

export type CallbackResult =
  | { kind: "token"; token: string; expiresInS: number | null }
  | { kind: "error"; code: string; description: string | null }
  | { kind: "empty" };

export function parseCallbackFragment(hash: string): CallbackResult {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const token = params.get("access_token");
  if (token) {
    const expires = Number(params.get("expires_in"));
    return { kind: "token", token, expiresInS: Number.isFinite(expires) && expires > 0 ? expires : null };
  }
  const error = params.get("error");
  if (error) return { kind: "error", code: error, description: params.get("error_description") };
  return { kind: "empty" };
}

/** Remember where the user wanted to go across the provider's redirect. */
export function rememberNext(path: string) {
  sessionStorage.setItem(NEXT_KEY, path);
}

export function takeNext(): string {
  const next = sessionStorage.getItem(NEXT_KEY);
  sessionStorage.removeItem(NEXT_KEY);
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

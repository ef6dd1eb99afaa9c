/**
 * What the live channel needs of the session (docs/auth.md, docs/realtime.md):
 *
 * - a single-use ticket (POST /auth/ws-ticket, valid 30 s) for each connection, so the
 *   long-lived token never goes into a URL (URLs end up in logs);
 * - a renewed token (POST /auth/refresh) when the session nears its end: the server closes a
 *   socket with 4402 when the token it was opened with expires, and the connection then
 *   renews, reconnects and resumes where it was.
 */
import { api, unwrap } from "../api/client.ts";
import { getSession, signIn } from "../shared/session.ts";

/** Renew when less than this is left, so a reconnect never starts on a dying token. */
export const RENEW_MARGIN_MS = 10 * 60_000;

export async function fetchTicket(): Promise<string> {
  const body = await unwrap(api.POST("/auth/ws-ticket"));
  return body.ticket;
}

let renewing: Promise<boolean> | null = null;

/** Trade the current token for a fresh one; false when there is none or the API refuses. */
export function renewSession(): Promise<boolean> {
  // One renewal at a time: several rooms (or retries) may ask at once.
  if (renewing) return renewing;
  renewing = (async () => {
    if (!getSession()) return false;
    try {
      const token = await unwrap(api.POST("/auth/refresh"));
      signIn(token.access_token, token.expires_in);
      return true;
    } catch {
      return false;
    } finally {
      renewing = null;
    }
  })();
  return renewing;
}

/** Renew first when the session ends within `marginMs`; true while a session exists. */
export async function ensureFreshSession(
  nowMs: number = Date.now(),
  marginMs: number = RENEW_MARGIN_MS,
  renew: () => Promise<boolean> = renewSession,
): Promise<boolean> {
  const session = getSession(nowMs);
  if (!session) return false;
  if (session.expiresAtMs !== null && session.expiresAtMs - marginMs <= nowMs) {
    await renew();
  }
  return getSession() !== null;
}

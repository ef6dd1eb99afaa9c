import { fetchJson, isRecord } from "../shared/fetchJson.ts";

export type SignInOption = "devLogin" | "google" | "spotify";

/** Which sign-in options the API has turned on; `null` when its answer did not say. */
export type SignInOptions = Record<SignInOption, boolean | null>;

export type ApiStatus =
  | { state: "loading" }
  | { state: "up"; signIn: SignInOptions | null; signInError: string | null }
  | { state: "down"; error: string };

function providerEnabled(value: unknown): boolean | null {
  return isRecord(value) && typeof value.enabled === "boolean" ? value.enabled : null;
}

/**
 * Read the sign-in options out of `GET /auth/config`:
 * `{"google": {"enabled", ...}, "spotify": {"enabled", ...}, "dev_login_enabled"}`.
 */
export function parseSignInOptions(body: unknown): SignInOptions {
  if (!isRecord(body)) {
    return { devLogin: null, google: null, spotify: null };
  }
  return {
    devLogin: typeof body.dev_login_enabled === "boolean" ? body.dev_login_enabled : null,
    google: providerEnabled(body.google),
    spotify: providerEnabled(body.spotify),
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Ask the API whether it is up (`/healthz`) and how people can sign in (`/auth/config`). */
export async function loadApiStatus(signal?: AbortSignal): Promise<ApiStatus> {
  try {
    const health = await fetchJson("/healthz", { signal });
    if (!isRecord(health) || health.status !== "ok") {
      return { state: "down", error: "/healthz did not answer {\"status\": \"ok\"}" };
    }
  } catch (error) {
    return { state: "down", error: describe(error) };
  }
  try {
    const config = await fetchJson("/auth/config", { signal });
    return { state: "up", signIn: parseSignInOptions(config), signInError: null };
  } catch (error) {
    return { state: "up", signIn: null, signInError: describe(error) };
  }
}

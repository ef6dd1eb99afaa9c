import { fetchJson, isRecord } from "../shared/fetchJson.ts";

export type SignInOption = "devLogin" | "google" | "spotify";

/** Which sign-in options the API has turned on; `null` when its answer did not say. */
export type SignInOptions = Record<SignInOption, boolean | null>;

export type ApiStatus =
  | { state: "loading" }
  | { state: "up"; signIn: SignInOptions | null; signInError: string | null }
  | { state: "down"; error: string };

/** `true`/`false` from `true`, `{"enabled": true}` and the like; `null` for anything else. */
function enabledFlag(value: unknown): boolean | null {
  if (typeof value === "boolean") {
    return value;
  }
  if (isRecord(value) && typeof value.enabled === "boolean") {
    return value.enabled;
  }
  return null;
}

/**
 * Read the sign-in options out of `GET /auth/config`.
 *
 * Each provider may be a flag or an object with `enabled`, at the top level or under
 * `providers`; dev login may be `dev_login` or `dev_login_enabled`.
 */
export function parseSignInOptions(body: unknown): SignInOptions {
  if (!isRecord(body)) {
    return { devLogin: null, google: null, spotify: null };
  }
  const providers = isRecord(body.providers) ? body.providers : {};
  const provider = (name: string) => enabledFlag(body[name] ?? providers[name]);
  return {
    devLogin: enabledFlag(body.dev_login ?? body.dev_login_enabled),
    google: provider("google"),
    spotify: provider("spotify"),
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

/**
 * What to tell a person when something failed: a sentence in their language chosen by the
 * API's stable error `code` (docs/errors.md), never the server's English `detail`, a URL or a
 * status line. Unknown codes fall back to a sentence for the HTTP status.
 */
import { ApiError } from "./fetchJson.ts";
import { hasKey, type StringKey, type Translate } from "./i18n.ts";

const BY_STATUS: Record<number, StringKey> = {
  400: "error.bad_request",
  401: "error.not_authenticated",
  403: "error.forbidden",
  404: "error.not_found",
  409: "error.conflict",
  413: "error.body_too_large",
  422: "error.invalid_input",
  429: "error.rate_limited",
};

/** The translated name of an input field (`room_id` → "room address"), or null. */
export function fieldName(field: string | null, t: Translate): string | null {
  if (!field) return null;
  const key = `field.${field}`;
  return hasKey(key) ? t(key) : null;
}

export function errorText(error: unknown, t: Translate): string {
  if (error instanceof ApiError) {
    const seconds = error.retryAfterS ?? 0;
    if (error.code === "invalid_input" || (error.code === null && error.status === 422)) {
      const field = fieldName(error.field, t);
      return field ? t("error.invalid_field", { field }) : t("error.invalid_input");
    }
    if (error.code) {
      const key = `error.${error.code}`;
      if (hasKey(key)) {
        if (seconds && hasKey(`${key}_in`)) return t(`${key}_in` as StringKey, { seconds });
        return t(key, { seconds });
      }
    }
    if (error.status === 429 && seconds) return t("error.rate_limited_in", { seconds });
    const byStatus = BY_STATUS[error.status];
    if (byStatus) return t(byStatus);
    if (error.status >= 500) return t("error.server");
    return t("error.unknown");
  }
  // fetch() rejects with a TypeError when the network or the server is unreachable.
  if (error instanceof TypeError) return t("error.network");
  return t("error.unknown");
}

/** Seconds a refusal asks to wait (429's `retry_after_s` / Retry-After), or 0. */
export function retryAfterSeconds(error: unknown): number {
  return error instanceof ApiError && error.status === 429 ? Math.ceil(error.retryAfterS ?? 0) : 0;
}

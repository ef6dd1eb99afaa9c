/**
 * A failed API call: the HTTP status, the API's `detail` (English, for developers: never shown
 * to people), and the stable `code` the app translates (docs/errors.md), with `retry_after_s`
 * on 429 and `field` on invalid input.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly detail: unknown;
  readonly code: string | null;
  readonly retryAfterS: number | null;
  readonly field: string | null;

  constructor(status: number, detail: unknown, message: string, body?: unknown, headers?: Headers) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
    const fields = isRecord(body) ? body : {};
    this.code = typeof fields.code === "string" ? fields.code : null;
    this.field = typeof fields.field === "string" ? fields.field : null;
    const header = Number(headers?.get("Retry-After") ?? NaN);
    this.retryAfterS =
      typeof fields.retry_after_s === "number"
        ? fields.retry_after_s
        : Number.isFinite(header) && header > 0
          ? header
          : null;
  }
}

/**
 * GET (or send) JSON to the API on this origin and return the parsed body.
 *
 * Non-2xx answers throw an ApiError carrying the status, the API's `detail` and `code`; a body
 * that is not JSON throws too, so callers never mistake an HTML error page for data.
 */
export async function fetchJson(path: string, init: RequestInit = {}): Promise<unknown> {
  const headers = new Headers(init.headers);
  headers.set("Accept", "application/json");
  const response = await fetch(path, { ...init, headers });
  const text = await response.text();
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      throw new ApiError(response.status, undefined, `${path}: the response is not JSON`);
    }
  }
  if (!response.ok) {
    const detail = isRecord(body) ? body.detail : undefined;
    const reason = typeof detail === "string" ? detail : response.statusText || "request failed";
    throw new ApiError(response.status, detail, `${path}: ${response.status} ${reason}`, body, response.headers);
  }
  return body;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

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

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

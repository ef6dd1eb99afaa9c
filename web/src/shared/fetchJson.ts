/** A failed API call: the HTTP status and the API's `{"detail": ...}` when it sent one. */
export class ApiError extends Error {
  readonly status: number;
  readonly detail: unknown;

  constructor(status: number, detail: unknown, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
  }
}

/**
 * GET (or send) JSON to the API on this origin and return the parsed body.
 *
 * Non-2xx answers throw an ApiError carrying the status and the API's `detail`; a body that is
 * not JSON throws too, so callers never mistake an HTML error page for data.
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
    throw new ApiError(response.status, detail, `${path}: ${response.status} ${reason}`);
  }
  return body;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

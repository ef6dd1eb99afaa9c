/**
 * The typed API client: openapi-fetch over the generated `schema.d.ts` (never edit that file;
 * `make web-api` regenerates it from the API's OpenAPI document).
 *
 * Every call sends the session's bearer token; a 401 on an authenticated call means the token
 * expired or was revoked, so the session ends and the app sends the user to sign in.
 */
import createClient, { type Middleware } from "openapi-fetch";

import { ApiError } from "../shared/fetchJson.ts";
import { getToken, signOut } from "../shared/session.ts";
import type { components, paths } from "./schema.d.ts";

export type Schemas = components["schemas"];
export type Room = Schemas["RoomResponse"];
export type RoomCreate = Schemas["RoomCreate"];
export type RoomUpdate = Schemas["RoomUpdate"];
export type User = Schemas["UserResponse"];
export type PublicUser = Schemas["PublicUserResponse"];
export type Message = Schemas["MessageResponse"];
export type QueueEntry = Schemas["QueueEntryResponse"];
export type Track = Schemas["TrackBase"];
export type SpotifyTrack = Schemas["SpotifyTrack"];
export type Genre = Schemas["GenreResponse"];
export type AuthConfig = Schemas["AuthConfigResponse"];
export type QueuePolicy = Schemas["QueuePolicy"];

export { ApiError };

const authMiddleware: Middleware = {
  onRequest({ request }) {
    const token = getToken();
    if (token && !request.headers.has("Authorization")) {
      request.headers.set("Authorization", `Bearer ${token}`);
    }
    return request;
  },
  onResponse({ request, response }) {
    if (response.status === 401 && request.headers.has("Authorization")) {
      signOut();
    }
    return response;
  },
};

function baseUrl(): string {
  return typeof window !== "undefined" ? window.location.origin : "http://localhost";
}

export function createApiClient(fetchImpl?: (input: Request) => Promise<Response>) {
  const client = createClient<paths>({
    baseUrl: baseUrl(),
    // Looked up per call (not captured once), so a page that swaps fetch is honoured.
    fetch: fetchImpl ?? ((request: Request) => globalThis.fetch(request)),
  });
  client.use(authMiddleware);
  return client;
}

export const api = createApiClient();

/** Human text out of FastAPI's `detail`: a string, or a list of validation errors. */
export function detailText(detail: unknown): string | null {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    const messages = detail
      .map((item) =>
        typeof item === "object" && item !== null && "msg" in item ? String(item.msg) : null,
      )
      .filter((text): text is string => Boolean(text));
    return messages.length ? messages.join("; ") : null;
  }
  return null;
}

interface Outcome<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data of a successful call; an ApiError (status + detail) otherwise. */
export async function unwrap<T>(call: Promise<Outcome<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) {
    const detail =
      typeof error === "object" && error !== null && "detail" in error
        ? (error as { detail: unknown }).detail
        : undefined;
    const reason = detailText(detail) ?? (response.statusText || "request failed");
    const path = new URL(response.url || "/", baseUrl()).pathname;
    throw new ApiError(response.status, detail, `${path}: ${response.status} ${reason}`, error, response.headers);
  }
  return data as T;
}

export { errorText } from "../shared/errors.ts";

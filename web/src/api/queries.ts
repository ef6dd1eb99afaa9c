/**
 * Query options for the server state several features read (the signed-in user, the sign-in
 * configuration, the genre vocabulary). One definition each, so every screen shares one cache
 * entry with the same key, fetcher and freshness; a feature's own queries live in its
 * `*-api.ts`.
 */
import { queryOptions } from "@tanstack/react-query";

import { api, unwrap } from "./client.ts";

/** The signed-in user (`GET /users/me`); the profile form writes it back after a save. */
export const meQuery = queryOptions({
  queryKey: ["me"],
  queryFn: () => unwrap(api.GET("/users/me")),
});

/** Which sign-in providers this server offers (`GET /auth/config`). */
export const authConfigQuery = queryOptions({
  queryKey: ["auth-config"],
  queryFn: () => unwrap(api.GET("/auth/config")),
});

/** The genre vocabulary (`GET /genres`): changes only with the catalog, so kept 5 minutes. */
export const genresQuery = queryOptions({
  queryKey: ["genres"],
  queryFn: () => unwrap(api.GET("/genres")),
  staleTime: 300_000,
});

/** Queue requests and the catalog search, typed by the generated schema. */
import { queryOptions } from "@tanstack/react-query";

import { api, unwrap } from "../api/client.ts";

export function searchCatalog(query: string, limit = 10) {
  return unwrap(api.GET("/spotify-public/search/tracks", { params: { query: { query, limit } } }));
}

/** Catalog search as the user types: from two characters, kept a minute. */
export function catalogQuery(query: string) {
  return queryOptions({
    queryKey: ["catalog", query],
    queryFn: () => searchCatalog(query),
    enabled: query.length >= 2,
    staleTime: 60_000,
  });
}

export function addToQueue(roomId: string, spotifyId: string) {
  return unwrap(
    api.POST("/rooms/{room_id}/queue", {
      params: { path: { room_id: roomId } },
      body: { spotify_id: spotifyId },
    }),
  );
}

export function removeFromQueue(roomId: string, associationId: string) {
  return unwrap(
    api.DELETE("/rooms/{room_id}/queue/{association_id}", {
      params: { path: { room_id: roomId, association_id: associationId } },
    }),
  );
}

/** `index` is the 0-based place among the queued (not playing) entries. */
export function moveInQueue(roomId: string, associationId: string, index: number) {
  return unwrap(
    api.POST("/rooms/{room_id}/queue/{association_id}/move", {
      params: { path: { room_id: roomId, association_id: associationId } },
      body: { index },
    }),
  );
}

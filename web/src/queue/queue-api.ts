import { api, unwrap } from "../api/client.ts";

export function searchCatalog(query: string, limit = 10) {
  return unwrap(api.GET("/spotify-public/search/tracks", { params: { query: { query, limit } } }));
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

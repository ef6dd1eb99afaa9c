/** Room requests: one function per call, typed by the generated schema, and their queries. */
import { queryOptions } from "@tanstack/react-query";

import { api, type RoomCreate, type RoomUpdate, unwrap } from "../api/client.ts";

/** The key every room list is cached under (one entry per filter below it). */
export const ROOMS_KEY = ["rooms"] as const;

export function listRooms(filter: { q?: string; genre?: string; limit?: number }) {
  return unwrap(
    api.GET("/rooms/", {
      params: {
        query: {
          limit: filter.limit ?? 30,
          ...(filter.q ? { q: filter.q } : {}),
          ...(filter.genre ? { genre: filter.genre } : {}),
        },
      },
    }),
  );
}

/** Discover's live rooms for a search and a genre, refreshed every 15 s. */
export function roomsQuery(q: string, genre: string) {
  return queryOptions({
    queryKey: [...ROOMS_KEY, q, genre],
    queryFn: () => listRooms({ q, genre }),
    refetchInterval: 15_000,
    placeholderData: (previous) => previous,
  });
}

export function createRoom(body: RoomCreate) {
  return unwrap(api.POST("/rooms/", { body }));
}

export function updateRoom(roomId: string, body: RoomUpdate) {
  return unwrap(api.PUT("/rooms/{room_id}", { params: { path: { room_id: roomId } }, body }));
}

export function deleteRoom(roomId: string) {
  return unwrap(api.DELETE("/rooms/{room_id}", { params: { path: { room_id: roomId } } }));
}

export interface NowPlaying {
  title: string;
  artists: string;
  status: string;
}

/** What a room plays now, from `GET /rooms/{id}/playback`; null when idle or unreadable. */
export async function loadNowPlaying(roomId: string): Promise<NowPlaying | null> {
  const state = await unwrap(
    api.GET("/rooms/{room_id}/playback", { params: { path: { room_id: roomId } } }),
  ).catch(() => null);
  if (!state?.track || state.status === "idle") return null;
  return { title: state.track.title, artists: state.track.artist_names, status: state.status };
}

export function nowPlayingQuery(roomId: string) {
  return queryOptions({
    queryKey: ["now-playing", roomId],
    queryFn: () => loadNowPlaying(roomId),
    staleTime: 15_000,
    retry: false,
  });
}

/** Room requests: one function per call, typed by the generated schema. */
import { api, type RoomCreate, unwrap } from "../api/client.ts";

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

export function listGenres() {
  return unwrap(api.GET("/genres"));
}

export function createRoom(body: RoomCreate) {
  return unwrap(api.POST("/rooms/", { body }));
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

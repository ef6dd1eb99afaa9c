/** Room requests: one function per call, typed by the generated schema. */
import { api, type RoomCreate, requestOptional, unwrap } from "../api/client.ts";
import { isRecord } from "../shared/fetchJson.ts";

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

/** What a room plays now, from `GET /rooms/{id}/playback`; null when idle or not served. */
export async function loadNowPlaying(roomId: string): Promise<NowPlaying | null> {
  const body = await requestOptional(`/rooms/${encodeURIComponent(roomId)}/playback`).catch(
    () => null,
  );
  if (!isRecord(body) || !isRecord(body.track) || body.status === "idle") return null;
  return {
    title: String(body.track.title ?? ""),
    artists: String(body.track.artist_names ?? ""),
    status: String(body.status),
  };
}

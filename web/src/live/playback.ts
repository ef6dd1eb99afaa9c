/** The room's playback state as the API sends it (docs/realtime.md), as a player anchor. */
import { isRecord } from "../shared/fetchJson.ts";
import type { PlaybackAnchor } from "../player/schedule.ts";

export interface PlaybackTrack {
  spotifyId: string;
  title: string;
  artists: string;
  durationMs: number;
  imageUrl: string | null;
}

export interface RoomPlayback extends PlaybackAnchor {
  version: number;
  status: "playing" | "paused" | "idle";
  track: PlaybackTrack | null;
}

function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** Read `{status, entry_id, track, started_at_ms, paused_position_ms, ...}`; null if unusable. */
export function parsePlayback(raw: unknown): RoomPlayback | null {
  if (!isRecord(raw)) return null;
  const status = raw.status;
  if (status !== "playing" && status !== "paused" && status !== "idle") return null;
  const rawTrack = isRecord(raw.track) ? raw.track : null;
  const spotifyId =
    rawTrack && typeof rawTrack.spotify_id === "string" ? rawTrack.spotify_id : null;
  const track: PlaybackTrack | null =
    rawTrack && spotifyId
      ? {
          spotifyId,
          title: typeof rawTrack.title === "string" ? rawTrack.title : "",
          artists:
            typeof rawTrack.artist_names === "string"
              ? rawTrack.artist_names
              : Array.isArray(rawTrack.artists)
                ? rawTrack.artists.join(", ")
                : "",
          durationMs: num(rawTrack.duration_ms) ?? 0,
          imageUrl: typeof rawTrack.image_url === "string" ? rawTrack.image_url : null,
        }
      : null;
  const startedAt = num(raw.started_at_ms);
  const playing = status === "playing" && startedAt !== null && track !== null;
  return {
    version: num(raw.version) ?? 0,
    status: track ? status : "idle",
    track,
    entryId: typeof raw.entry_id === "string" ? raw.entry_id : null,
    trackId: track?.spotifyId ?? null,
    durationMs: track?.durationMs ?? 0,
    playing,
    // Playing: position 0 at started_at_ms. Paused: the held position, at any instant.
    positionMs: playing ? 0 : (num(raw.paused_position_ms) ?? num(raw.position_ms) ?? 0),
    anchorServerMs: playing ? startedAt : (num(raw.server_time_ms) ?? 0),
  };
}

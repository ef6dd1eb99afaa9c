/**
 * Listening history (`GET /users/me/history`) and its summary (`GET /users/me/summary`) are
 * built on another branch and are not in the generated schema yet: these readers take their
 * documented shapes and answer null while the endpoints do not exist.
 */
import { requestOptional } from "../api/client.ts";
import { isRecord } from "../shared/fetchJson.ts";

export interface HistoryItem {
  id: string;
  playedAt: string;
  msPlayed: number;
  source: string;
  roomName: string | null;
  title: string;
  artists: string[];
}

export interface HistoryPage {
  items: HistoryItem[];
  nextBefore: string | null;
}

export interface Count {
  name: string;
  plays: number;
}

export interface ListeningSummary {
  plays: number;
  topGenres: Count[];
  topArtists: Count[];
}

export function readHistoryPage(body: unknown): HistoryPage {
  if (!isRecord(body)) return { items: [], nextBefore: null };
  const raw = Array.isArray(body.items) ? body.items : [];
  const items = raw.flatMap((item): HistoryItem[] => {
    if (!isRecord(item) || !isRecord(item.track)) return [];
    return [
      {
        id: String(item.id),
        playedAt: String(item.played_at ?? ""),
        msPlayed: typeof item.ms_played === "number" ? item.ms_played : 0,
        source: String(item.source ?? ""),
        roomName: isRecord(item.room) && typeof item.room.name === "string" ? item.room.name : null,
        title: String(item.track.title ?? ""),
        artists: Array.isArray(item.track.artists) ? item.track.artists.map(String) : [],
      },
    ];
  });
  return { items, nextBefore: typeof body.next_before === "string" ? body.next_before : null };
}

function counts(value: unknown): Count[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item) =>
    isRecord(item) && typeof item.name === "string" && typeof item.plays === "number"
      ? [{ name: item.name, plays: item.plays }]
      : [],
  );
}

export function readSummary(body: unknown): ListeningSummary | null {
  if (!isRecord(body)) return null;
  return {
    plays: typeof body.plays === "number" ? body.plays : 0,
    topGenres: counts(body.top_genres),
    topArtists: counts(body.top_artists),
  };
}

export async function loadHistoryPage(before: string | null, limit = 20): Promise<HistoryPage | null> {
  const query = new URLSearchParams({ limit: String(limit) });
  if (before) query.set("before", before);
  const body = await requestOptional(`/users/me/history?${query}`);
  return body === null ? null : readHistoryPage(body);
}

export async function loadSummary(): Promise<ListeningSummary | null> {
  const body = await requestOptional("/users/me/summary");
  return body === null ? null : readSummary(body);
}

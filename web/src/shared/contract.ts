/**
 * Fields of the API that newer servers send and older ones may not (docs/web.md): read
 * defensively so the screens degrade to what they knew before instead of failing.
 *
 * - `online_count` on rooms: people connected to the room's live channel right now.
 * - `is_demo` on rooms and users: a seeded demo room / a sample profile built from a public
 *   playlist (not a person).
 * - `added_by_user` on queue entries: who added the track.
 */
import { isRecord } from "./fetchJson.ts";

export interface UserRef {
  id: string;
  displayName: string;
  isDemo: boolean;
}

export function onlineCount(room: unknown): number | null {
  if (!isRecord(room)) return null;
  const value = room.online_count;
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : null;
}

export function isDemo(thing: unknown): boolean {
  return isRecord(thing) && thing.is_demo === true;
}

export function addedByUser(entry: unknown): UserRef | null {
  if (!isRecord(entry) || !isRecord(entry.added_by_user)) return null;
  const user = entry.added_by_user;
  if (typeof user.id !== "string" || typeof user.display_name !== "string") return null;
  return { id: user.id, displayName: user.display_name, isDemo: user.is_demo === true };
}

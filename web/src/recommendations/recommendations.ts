/**
 * Recommendations (`GET /recommendations/rooms|users`) are built on another branch and are not
 * in the generated schema yet. These readers accept the shapes the product brief describes
 * (a list, or `{items: [...]}`, of entries with a score and a human reason) and answer null
 * while the endpoints do not exist, so Discover hides those sections.
 */
import { requestOptional } from "../api/client.ts";
import { isDemo, onlineCount } from "../shared/contract.ts";
import { isRecord } from "../shared/fetchJson.ts";
import { type ReasonPart, readReasonParts } from "./reasons.ts";

export interface RecommendedRoom {
  id: string;
  name: string;
  genres: string[];
  memberCount: number | null;
  onlineCount: number | null;
  isDemo: boolean;
  reason: string | null;
  reasonParts: ReasonPart[];
}

export interface RecommendedPerson {
  id: string;
  displayName: string;
  genres: string[];
  isDemo: boolean;
  reason: string | null;
  reasonParts: ReasonPart[];
}

function entries(body: unknown, key: string): unknown[] {
  if (Array.isArray(body)) return body;
  if (isRecord(body)) {
    for (const name of ["items", key, "results"]) {
      const value = body[name];
      if (Array.isArray(value)) return value;
    }
  }
  return [];
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

export function readRecommendedRooms(body: unknown): RecommendedRoom[] {
  return entries(body, "rooms").flatMap((entry) => {
    if (!isRecord(entry)) return [];
    const room = isRecord(entry.room) ? entry.room : entry;
    const id = room.id ?? room.room_id;
    if (typeof id !== "string" || typeof room.name !== "string") return [];
    return [
      {
        id,
        name: room.name,
        genres: strings(room.genres),
        memberCount: typeof room.member_count === "number" ? room.member_count : null,
        onlineCount: onlineCount(room),
        isDemo: isDemo(room),
        reason: typeof entry.reason === "string" ? entry.reason : null,
        reasonParts: readReasonParts(entry.reason_parts),
      },
    ];
  });
}

export function readRecommendedPeople(body: unknown): RecommendedPerson[] {
  return entries(body, "users").flatMap((entry) => {
    if (!isRecord(entry)) return [];
    const user = isRecord(entry.user) ? entry.user : entry;
    const id = user.id ?? user.user_id;
    if (typeof id !== "string" || typeof user.display_name !== "string") return [];
    return [
      {
        id,
        displayName: user.display_name,
        genres: strings(user.favorite_genres ?? user.genres ?? entry.shared_genres),
        isDemo: isDemo(user),
        reason: typeof entry.reason === "string" ? entry.reason : null,
        reasonParts: readReasonParts(entry.reason_parts),
      },
    ];
  });
}

export async function loadRecommendedRooms(): Promise<RecommendedRoom[] | null> {
  const body = await requestOptional("/recommendations/rooms?limit=6");
  return body === null ? null : readRecommendedRooms(body);
}

export async function loadRecommendedPeople(): Promise<RecommendedPerson[] | null> {
  const body = await requestOptional("/recommendations/users?limit=6");
  return body === null ? null : readRecommendedPeople(body);
}

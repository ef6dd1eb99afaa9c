/**
 * Recommendations (`GET /recommendations/rooms|users`): `{items, model_version}`, each item a
 * room or a person with a score and a reason (English `reason` plus translatable
 * `reason_parts`), typed by the generated schema.
 */
import { queryOptions } from "@tanstack/react-query";

import { api, type Schemas, unwrap } from "../api/client.ts";

export type RoomRecommendation = Schemas["RoomRecommendation"];
export type PersonRecommendation = Schemas["PersonRecommendation"];

/** How many of each Discover shows. */
const LIMIT = 6;

export async function loadRecommendedRooms(): Promise<RoomRecommendation[]> {
  const answer = await unwrap(api.GET("/recommendations/rooms", { params: { query: { limit: LIMIT } } }));
  return answer.items;
}

export async function loadRecommendedPeople(): Promise<PersonRecommendation[]> {
  const answer = await unwrap(api.GET("/recommendations/users", { params: { query: { limit: LIMIT } } }));
  return answer.items;
}

export const recommendedRoomsQuery = queryOptions({
  queryKey: ["recommendations", "rooms"],
  queryFn: loadRecommendedRooms,
  retry: false,
});

export const recommendedPeopleQuery = queryOptions({
  queryKey: ["recommendations", "users"],
  queryFn: loadRecommendedPeople,
  retry: false,
});

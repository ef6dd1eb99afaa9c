/**
 * Listening history (`GET /users/me/history`, newest first, paged by `next_before`) and its
 * summary (`GET /users/me/summary`): the profile's queries, typed by the generated schema.
 */
import { infiniteQueryOptions, queryOptions } from "@tanstack/react-query";

import { api, type Schemas, unwrap } from "../api/client.ts";

export type HistoryPage = Schemas["HistoryPage"];
export type HistoryItem = Schemas["HistoryItem"];
export type ListeningSummary = Schemas["ListeningSummary"];

export function loadHistoryPage(before: string | null, limit = 20): Promise<HistoryPage> {
  return unwrap(api.GET("/users/me/history", { params: { query: { limit, ...(before ? { before } : {}) } } }));
}

export function loadSummary(): Promise<ListeningSummary> {
  return unwrap(api.GET("/users/me/summary"));
}

export const summaryQuery = queryOptions({ queryKey: ["summary"], queryFn: loadSummary, retry: false });

export const historyQuery = infiniteQueryOptions({
  queryKey: ["history"],
  queryFn: ({ pageParam }) => loadHistoryPage(pageParam),
  initialPageParam: null as string | null,
  getNextPageParam: (last) => last.next_before,
  retry: false,
});

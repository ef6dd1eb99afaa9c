/**
 * A genre's page (`GET /genres/{slug}`) and genres to explore (`GET /users/me/genres/explore`),
 * typed by the generated schema.
 */
import { queryOptions } from "@tanstack/react-query";

import { api, type Schemas, unwrap } from "../api/client.ts";

export type GenrePageData = Schemas["GenrePage"];
export type GenreToExplore = Schemas["GenreToExplore"];

/** How many genres Discover suggests. */
export const EXPLORE_COUNT = 5;

export function genrePageQuery(slug: string) {
  return queryOptions({
    queryKey: ["genres", "page", slug],
    queryFn: () => unwrap(api.GET("/genres/{slug}", { params: { path: { slug } } })),
    // The server keeps a page for a minute; asking sooner gets the same answer.
    staleTime: 60_000,
    retry: false,
  });
}

export const exploreGenresQuery = queryOptions({
  queryKey: ["genres", "explore", EXPLORE_COUNT],
  queryFn: async () =>
    (await unwrap(api.GET("/users/me/genres/explore", { params: { query: { k: EXPLORE_COUNT } } }))).items,
  staleTime: 60_000,
  retry: false,
});

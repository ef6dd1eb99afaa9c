import { useQuery } from "@tanstack/react-query";

import { genresQuery } from "../api/queries.ts";

/** Genre slug → the vocabulary's display name (the slug until the list has loaded). */
export function useGenreNames(): (slug: string) => string {
  const genres = useQuery(genresQuery);
  const names = new Map((genres.data ?? []).map((genre) => [genre.slug, genre.name]));
  return (slug) => names.get(slug) ?? slug;
}

/**
 * Reasons (recommendations, genres to explore, a genre's people) in the user's language. The API sends `reason` (English) and
 * `reason_parts` (`{code, params}` each, codes in docs/recommendations.md); each part is
 * translated by its code and the parts are joined with " · ", as the English one is. A part
 * with a code this app does not know yet (a newer server) makes the whole reason fall back to
 * the English `reason`, rather than showing half a sentence.
 */
import { isRecord } from "./fetchJson.ts";
import { hasKey, type I18n, type PluralKey, type StringKey } from "./i18n.ts";

/** Codes whose text is a plural message, and the param holding its count. */
const COUNTED: Record<string, string> = {
  here_now: "count",
  popular_genre: "listeners",
  popular_genre_to_start: "listeners",
  catalog_genre: "tracks",
  taste_neighbours_play: "listeners",
};

export interface ReasonPart {
  code: string;
  params: Record<string, unknown>;
}

export function readReasonParts(value: unknown): ReasonPart[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((part) =>
    isRecord(part) && typeof part.code === "string"
      ? [{ code: part.code, params: isRecord(part.params) ? part.params : {} }]
      : [],
  );
}

function words(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === "string");
  return typeof value === "string" ? [value] : [];
}

/** "a, b and c" / "a, b и c". */
export function joinWords(language: string, items: string[]): string {
  return new Intl.ListFormat(language, { style: "long", type: "conjunction" }).format(items);
}

/** Translate `parts`; null when one of them has an unknown code (use the English reason). */
export function translateReason(
  parts: ReasonPart[],
  i18n: Pick<I18n, "language" | "t" | "plural">,
  genreName: (slug: string) => string = (slug) => slug,
): string | null {
  const { language, t, plural } = i18n;
  const list = (items: string[]) => joinWords(language, items);
  const genres = (value: unknown) => list(words(value).map(genreName));
  const texts: string[] = [];
  for (const { code, params } of parts) {
    const counted = COUNTED[code];
    if (counted) {
      const count = Number(params[counted]);
      if (!Number.isFinite(count)) return null;
      texts.push(
        plural(`reason.${code}` as PluralKey, count, {
          genre: genreName(typeof params.genre === "string" ? params.genre : ""),
        }),
      );
      continue;
    }
    const key = `reason.${code}`;
    if (!hasKey(key)) return null;
    texts.push(
      t(key as StringKey, {
        genres: genres(params.genres),
        genre: genreName(typeof params.genre === "string" ? params.genre : ""),
        also: genreName(typeof params.also === "string" ? params.also : ""),
        percent: typeof params.percent === "number" ? params.percent : "",
        name: typeof params.name === "string" ? params.name : "",
        title: typeof params.title === "string" ? params.title : "",
        artists: list(words(params.artists)),
        items: list([...words(params.genres).map(genreName), ...words(params.artists)]),
      }),
    );
  }
  return texts.length ? texts.join(" · ") : null;
}

/** The reason to show: translated parts, else the English `reason`, else nothing. */
export function reasonText(
  parts: ReasonPart[],
  english: string | null,
  i18n: Pick<I18n, "language" | "t" | "plural">,
  genreName?: (slug: string) => string,
): string | null {
  return translateReason(parts, i18n, genreName) ?? english;
}

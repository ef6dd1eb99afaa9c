import { useQuery } from "@tanstack/react-query";

import { useGenreNames } from "../shared/genre-names.ts";
import { useI18n } from "../shared/i18n.ts";
import { Link } from "../shared/Link.tsx";
import { readReasonParts, reasonText } from "../shared/reasons.ts";
import { genrePath } from "../shared/router.ts";
import { Card } from "../shared/ui.tsx";
import { exploreGenresQuery } from "./genres-api.ts";

/** "Genres to explore" on Discover: hidden while loading, on a failure, or when empty. */
export function GenresToExplore() {
  const i18n = useI18n();
  const { t } = i18n;
  const genreName = useGenreNames();
  const genres = useQuery(exploreGenresQuery);
  if (!genres.data?.length) return null;
  return (
    <Card label={t("discover.explore")} className="space-y-3">
      <h2 className="text-lg font-semibold">{t("discover.explore")}</h2>
      <ul className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
        {genres.data.map(({ genre, reason_parts: parts, reason: english, room, tracks }) => {
          const reason = reasonText(readReasonParts(parts), english, i18n, genreName);
          return (
            <li
              key={genre.slug}
              className="min-w-0 space-y-1 rounded-xl border border-zinc-200 p-3 dark:border-zinc-800"
              data-testid="genre-to-explore"
            >
              <Link to={genrePath(genre.slug)} className="font-medium hover:underline">
                {genre.name}
              </Link>
              {reason ? <p className="break-words text-sm text-zinc-600 dark:text-zinc-400">{reason}</p> : null}
              {room ? (
                <p className="text-sm">
                  {t("explore.roomNow")}{" "}
                  <Link to={`/room/${room.id}`} className="break-words font-medium [overflow-wrap:anywhere] hover:underline">
                    {room.name}
                  </Link>
                </p>
              ) : null}
              {tracks.length ? (
                <p className="break-words text-xs text-zinc-600 dark:text-zinc-400">
                  {t("explore.tryTracks")}: {tracks.map((track) => `${track.title} (${track.artists.join(", ")})`).join(" · ")}
                </p>
              ) : null}
            </li>
          );
        })}
      </ul>
    </Card>
  );
}

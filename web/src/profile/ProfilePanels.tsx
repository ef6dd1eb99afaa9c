import { useInfiniteQuery, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";

import { api, unwrap, type User } from "../api/client.ts";
import { authConfigQuery, genresQuery, meQuery } from "../api/queries.ts";
import { GenrePicker } from "../shared/GenrePicker.tsx";
import { useI18n } from "../shared/i18n.ts";
import { Link } from "../shared/Link.tsx";
import { genrePath } from "../shared/router.ts";
import { formatDuration } from "../shared/format.ts";
import { Button, Card, ErrorNotice, Field, Spinner, TextInput } from "../shared/ui.tsx";
import { historyQuery, summaryQuery } from "./history.ts";

export function ProfileForm({ me }: { me: User }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const genres = useQuery(genresQuery);
  const [name, setName] = useState(me.display_name);
  const [favourites, setFavourites] = useState<string[]>(me.favorite_genres);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const save = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setStatus(null);
    try {
      const updated = await unwrap(
        api.PATCH("/users/me", { body: { display_name: name.trim(), favorite_genres: favourites } }),
      );
      queryClient.setQueryData(meQuery.queryKey, updated);
      setStatus(t("profile.saved"));
    } catch (caught) {
      setError(caught);
    }
  };
  return (
    <Card label={t("profile.about")} className="space-y-3">
      <h2 className="text-lg font-semibold">{t("profile.about")}</h2>
      <form onSubmit={save} className="space-y-3">
        <Field label={t("profile.name")}>
          <TextInput value={name} onChange={(event) => setName(event.target.value)} required maxLength={64} />
        </Field>
        <GenrePicker options={genres.data ?? []} value={favourites} onChange={setFavourites} label={t("profile.favourites")} />
        <div className="flex items-center gap-3">
          <Button type="submit">{t("profile.save")}</Button>
          {status ? <span role="status" className="text-sm text-emerald-700 dark:text-emerald-400">{status}</span> : null}
        </div>
        <ErrorNotice error={error} />
      </form>
    </Card>
  );
}

const PROVIDER_NAMES = { google: "Google", spotify: "Spotify" } as const;

/**
 * The accounts linked to this profile, and "Link Spotify" when this server can link it. What
 * the server has configured is not the user's business: providers that are neither linked nor
 * linkable are not listed, and the card hides when there is nothing to show or offer.
 */
export function LinkedProviders() {
  const { t } = useI18n();
  const config = useQuery(authConfigQuery);
  const links = useQuery({ queryKey: ["auth-links"], queryFn: () => unwrap(api.GET("/auth/links")) });
  const [error, setError] = useState<unknown>(null);
  const linked = links.data ?? [];
  const spotifyLinked = linked.some((item) => item.provider === "spotify" && item.status === "active");
  const canLinkSpotify = Boolean(config.data?.spotify.enabled) && !spotifyLinked;
  const link = async () => {
    try {
      const answer = await unwrap(api.POST("/auth/spotify/link"));
      window.location.assign(answer.authorize_url);
    } catch (caught) {
      setError(caught);
    }
  };
  if (!links.isSuccess || !config.isSuccess) return null;
  if (linked.length === 0 && !canLinkSpotify) return null;
  return (
    <Card label={t("profile.providers")} className="space-y-2">
      <h2 className="text-lg font-semibold">{t("profile.providers")}</h2>
      {linked.length === 0 ? <p className="text-sm text-zinc-600 dark:text-zinc-400">{t("profile.noProviders")}</p> : null}
      <ul className="space-y-1 text-sm">
        {linked.map((item) => (
          <li key={item.provider}>
            {PROVIDER_NAMES[item.provider as keyof typeof PROVIDER_NAMES] ?? item.provider}:{" "}
            {item.status === "active" ? t("profile.linked") : t("profile.revoked")}
          </li>
        ))}
      </ul>
      {canLinkSpotify ? (
        <Button tone="secondary" className="px-2 py-1" onClick={() => void link()}>
          {t("profile.linkSpotify")}
        </Button>
      ) : null}
      <ErrorNotice error={error} />
    </Card>
  );
}

export function TopLists() {
  const { t, plural } = useI18n();
  const summary = useQuery(summaryQuery);
  if (summary.isPending) return null;
  if (!summary.data) {
    return (
      <Card label={t("profile.top")}>
        <h2 className="text-lg font-semibold">{t("profile.top")}</h2>
        <p className="text-sm text-zinc-600 dark:text-zinc-400">{t("profile.notYet")}</p>
      </Card>
    );
  }
  // `link`: where an item leads (a top genre: its page, by slug).
  const list = (title: string, items: { name: string; plays: number; slug?: string }[], link?: (slug: string) => string) => (
    <div>
      <h3 className="text-sm font-semibold">{title}</h3>
      {items.length === 0 ? <p className="text-sm text-zinc-600 dark:text-zinc-400">{t("profile.nothing")}</p> : null}
      <ol className="list-decimal pl-5 text-sm">
        {items.slice(0, 5).map((item) => (
          <li key={item.name} className="break-words">
            {link && item.slug ? (
              <Link to={link(item.slug)} className="hover:underline">
                {item.name}
              </Link>
            ) : (
              item.name
            )}{" "}
            <span className="text-zinc-600 dark:text-zinc-400">· {plural("profile.plays", item.plays)}</span>
          </li>
        ))}
      </ol>
    </div>
  );
  return (
    <Card label={t("profile.top")} className="space-y-3">
      <h2 className="text-lg font-semibold">{t("profile.top")}</h2>
      <div className="grid gap-3 sm:grid-cols-2">
        {list(t("profile.topGenres"), summary.data.top_genres, genrePath)}
        {list(t("profile.topArtists"), summary.data.top_artists)}
      </div>
    </Card>
  );
}

export function HistoryList() {
  const { t, dateTime } = useI18n();
  const history = useInfiniteQuery(historyQuery);
  const items = (history.data?.pages ?? []).flatMap((page) => page.items);
  return (
    <Card label={t("profile.history")} className="space-y-3">
      <h2 className="text-lg font-semibold">{t("profile.history")}</h2>
      {history.isPending ? <Spinner label={t("common.loading")} /> : null}
      {history.isError ? <ErrorNotice error={history.error} /> : null}
      {history.isSuccess && items.length === 0 ? (
        <p className="text-sm text-zinc-600 dark:text-zinc-400">{t("profile.noHistory")}</p>
      ) : null}
      <ul className="divide-y divide-zinc-100 dark:divide-zinc-800">
        {items.map((item) => (
          <li key={item.id} className="flex flex-wrap items-baseline gap-x-3 py-2 text-sm">
            <span className="min-w-0 break-words font-medium">{item.track.title}</span>
            <span className="min-w-0 break-words text-zinc-600 dark:text-zinc-400">{item.track.artists.join(", ")}</span>
            <span className="ml-auto min-w-0 break-words text-xs text-zinc-600 dark:text-zinc-400">
              {item.room ? `${item.room.name} · ` : ""}
              {formatDuration(item.ms_played)} · <time dateTime={item.played_at}>{dateTime(item.played_at)}</time>
            </span>
          </li>
        ))}
      </ul>
      {history.hasNextPage ? (
        <Button tone="secondary" onClick={() => void history.fetchNextPage()} disabled={history.isFetchingNextPage}>
          {t("profile.more")}
        </Button>
      ) : null}
    </Card>
  );
}

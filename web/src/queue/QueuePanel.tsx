/**
 * The room's queue: a virtualised list (hundreds of entries cost a screenful of DOM), catalog
 * search to add, and remove / move up / move down for those who may.
 */
import { useQuery } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import { type FormEvent, useDeferredValue, useRef, useState } from "react";

import type { QueueEntry } from "../api/client.ts";
import { addedByLine } from "./added-by.ts";
import { useI18n } from "../shared/i18n.ts";
import { formatDuration } from "../shared/format.ts";
import { Button, ErrorNotice, TextInput } from "../shared/ui.tsx";
import { addToQueue, catalogQuery, moveInQueue, removeFromQueue } from "./queue-api.ts";

const ROW_PX = 64;

interface QueuePanelProps {
  roomId: string;
  queue: QueueEntry[];
  myUserId: string | null;
  canAdd: boolean;
  canManage: boolean;
  onChanged: () => void;
}

function CatalogSearch({ roomId, onAdded }: { roomId: string; onAdded: () => void }) {
  const { t } = useI18n();
  const [text, setText] = useState("");
  const query = useDeferredValue(text.trim());
  const [error, setError] = useState<unknown>(null);
  const results = useQuery(catalogQuery(query));
  const add = async (spotifyId: string) => {
    setError(null);
    try {
      await addToQueue(roomId, spotifyId);
      setText("");
      onAdded();
    } catch (caught) {
      setError(caught);
    }
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const first = results.data?.tracks.items[0];
    if (first) void add(first.id);
  };
  return (
    <form onSubmit={submit} className="space-y-2" role="search">
      <TextInput
        type="search"
        aria-label={t("queue.search")}
        placeholder={t("queue.search")}
        value={text}
        onChange={(event) => setText(event.target.value)}
      />
      <ErrorNotice error={error} />
      {results.isError ? <ErrorNotice error={results.error} /> : null}
      {query.length >= 2 && results.data ? (
        <ul aria-label={t("queue.results")} className="max-h-64 space-y-1 overflow-y-auto">
          {results.data.tracks.items.length === 0 ? (
            <li className="text-sm text-zinc-600 dark:text-zinc-400">{t("queue.noResults")}</li>
          ) : null}
          {results.data.tracks.items.map((track) => (
            <li key={track.id} className="flex items-center gap-2 rounded-lg p-1 hover:bg-zinc-100 dark:hover:bg-zinc-800">
              <div className="min-w-0 flex-1">
                <p className="truncate text-sm font-medium" title={track.name}>{track.name}</p>
                <p className="truncate text-xs text-zinc-600 dark:text-zinc-400">
                  {track.artists.map((artist) => artist.name).join(", ")} · {formatDuration(track.duration_ms)}
                </p>
              </div>
              <Button
                tone="secondary"
                className="px-2 py-1"
                aria-label={t("queue.addTrack", { title: track.name })}
                onClick={() => void add(track.id)}
              >
                +
              </Button>
            </li>
          ))}
        </ul>
      ) : null}
    </form>
  );
}

export function QueuePanel({ roomId, queue, myUserId, canAdd, canManage, onChanged }: QueuePanelProps) {
  const { t } = useI18n();
  const scroller = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<unknown>(null);
  const upcoming = queue.filter((entry) => entry.status === "queued");
  // TanStack Virtual hands out fresh functions each render; this component is not memoised.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: upcoming.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_PX,
    overscan: 8,
  });
  const act = async (action: () => Promise<unknown>) => {
    setError(null);
    try {
      await action();
      onChanged();
    } catch (caught) {
      setError(caught);
    }
  };
  return (
    <section aria-label={t("queue.title")} className="flex min-h-0 flex-col gap-3">
      <h2 className="text-lg font-semibold">
        {t("queue.title")} <span className="text-sm font-normal text-zinc-600 dark:text-zinc-400">({upcoming.length})</span>
      </h2>
      {canAdd ? <CatalogSearch roomId={roomId} onAdded={onChanged} /> : <p className="text-sm text-zinc-600 dark:text-zinc-400">{t("queue.ownerOnly")}</p>}
      <ErrorNotice error={error} />
      {upcoming.length === 0 ? (
        <p className="text-sm text-zinc-600 dark:text-zinc-400" data-testid="queue-empty">
          {canAdd ? t("queue.emptyAdd") : t("queue.empty")}
        </p>
      ) : null}
      <div ref={scroller} className="max-h-96 overflow-y-auto" data-testid="queue-scroller">
        <ol
          aria-label={t("queue.list")}
          style={{ height: virtualizer.getTotalSize(), position: "relative" }}
        >
          {virtualizer.getVirtualItems().map((row) => {
            const entry = upcoming[row.index];
            if (!entry) return null;
            const mine = entry.added_by === myUserId;
            const addedBy = addedByLine(entry, myUserId, t);
            const details = `${entry.track.artists.join(", ")} · ${formatDuration(entry.track.duration_ms)}`;
            return (
              <li
                key={entry.association_id}
                aria-posinset={row.index + 1}
                aria-setsize={upcoming.length}
                className="absolute left-0 flex w-full items-center gap-2 border-b border-zinc-100 px-1 dark:border-zinc-800"
                style={{ top: row.start, height: ROW_PX }}
              >
                <span className="w-6 text-right text-xs tabular-nums text-zinc-600 dark:text-zinc-400">{row.index + 1}</span>
                <div className="min-w-0 flex-1">
                  <p className="truncate text-sm font-medium" title={entry.track.title}>{entry.track.title}</p>
                  <p className="truncate text-xs text-zinc-600 dark:text-zinc-400" title={details}>
                    {details}
                  </p>
                  {addedBy ? (
                    <p className="truncate text-xs text-zinc-600 dark:text-zinc-400" title={addedBy} data-testid="queue-added-by">
                      {addedBy}
                    </p>
                  ) : null}
                </div>
                {canManage ? (
                  <>
                    <Button
                      tone="ghost"
                      className="px-1.5 py-1"
                      aria-label={t("queue.moveUp", { title: entry.track.title })}
                      disabled={row.index === 0}
                      onClick={() => void act(() => moveInQueue(roomId, entry.association_id, row.index - 1))}
                    >
                      ↑
                    </Button>
                    <Button
                      tone="ghost"
                      className="px-1.5 py-1"
                      aria-label={t("queue.moveDown", { title: entry.track.title })}
                      disabled={row.index === upcoming.length - 1}
                      onClick={() => void act(() => moveInQueue(roomId, entry.association_id, row.index + 1))}
                    >
                      ↓
                    </Button>
                  </>
                ) : null}
                {canManage || mine ? (
                  <Button
                    tone="ghost"
                    className="px-1.5 py-1"
                    aria-label={t("queue.remove", { title: entry.track.title })}
                    onClick={() => void act(() => removeFromQueue(roomId, entry.association_id))}
                  >
                    ✕
                  </Button>
                ) : null}
              </li>
            );
          })}
        </ol>
      </div>
    </section>
  );
}

/**
 * The room's chat: a virtualised list (a thousand messages cost a screenful of DOM) that
 * follows new messages while you are at the bottom, loads older ones when you scroll to the
 * top (keeping your place), and shows your own messages at once, greyed until stored.
 */
import { useVirtualizer } from "@tanstack/react-virtual";
import { type FormEvent, useEffect, useLayoutEffect, useRef, useState } from "react";

import type { Message } from "../api/client.ts";
import { isDemo } from "../shared/contract.ts";
import { useI18n } from "../shared/i18n.ts";
import { Icon } from "../shared/icons.tsx";
import { Button, ErrorNotice, TextInput } from "../shared/ui.tsx";

export interface PendingChat {
  clientId: string;
  text: string;
  failed: boolean;
}

interface ChatPanelProps {
  messages: Message[];
  pending: PendingChat[];
  hasOlder: boolean;
  myUserId: string | null;
  myName: string;
  onLoadOlder: () => Promise<void>;
  onSend: (text: string, clientId?: string) => Promise<void>;
}

type Row =
  | { kind: "message"; key: string; message: Message }
  | { kind: "pending"; key: string; pending: PendingChat };

export function ChatPanel({ messages, pending, hasOlder, myUserId, myName, onLoadOlder, onSend }: ChatPanelProps) {
  const { t, time } = useI18n();
  const scroller = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const [text, setText] = useState("");
  const [error, setError] = useState<unknown>(null);
  const atBottom = useRef(true);
  const loadingOlder = useRef(false);
  const anchorKey = useRef<string | null>(null);

  const rows: Row[] = [
    ...messages.map((message) => ({ kind: "message" as const, key: message.id, message })),
    ...pending.map((item) => ({ kind: "pending" as const, key: item.clientId, pending: item })),
  ];
  // TanStack Virtual hands out fresh functions each render; this component is not memoised.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => 52,
    overscan: 10,
    getItemKey: (index) => rows[index]?.key ?? index,
  });

  // Older messages were put on top: scroll back to the message that was first.
  useLayoutEffect(() => {
    if (anchorKey.current) {
      const index = rows.findIndex((row) => row.key === anchorKey.current);
      anchorKey.current = null;
      if (index > 0) virtualizer.scrollToIndex(index, { align: "start" });
    } else if (atBottom.current && rows.length) {
      virtualizer.scrollToIndex(rows.length - 1, { align: "end" });
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [rows.length]);

  const onScroll = () => {
    const element = scroller.current;
    if (!element) return;
    atBottom.current = element.scrollHeight - element.scrollTop - element.clientHeight < 40;
    if (element.scrollTop < 80 && hasOlder && !loadingOlder.current && rows[0]) {
      loadingOlder.current = true;
      anchorKey.current = rows[0].key;
      void onLoadOlder().finally(() => {
        loadingOlder.current = false;
      });
    }
  };

  useEffect(() => {
    const element = scroller.current;
    // A short history does not scroll: fetch older pages until it does or there are none.
    if (element && hasOlder && element.scrollHeight <= element.clientHeight && messages.length) {
      void onLoadOlder();
    }
  }, [hasOlder, messages.length, onLoadOlder]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const body = text.trim();
    if (!body) return;
    setText("");
    setError(null);
    atBottom.current = true;
    try {
      await onSend(body);
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <section aria-label={t("chat.title")} className="flex min-h-0 flex-1 flex-col gap-2">
      <h2 className="text-lg font-semibold">{t("chat.title")}</h2>
      {/* Focusable (and named), so the history can be scrolled with the keyboard. */}
      <div
        ref={scroller}
        onScroll={onScroll}
        tabIndex={0}
        role="region"
        aria-label={t("chat.history")}
        className="h-80 overflow-y-auto rounded-lg bg-zinc-100 p-2 focus-visible:outline-2 focus-visible:outline-violet-500 lg:h-[28rem] dark:bg-zinc-950"
        data-testid="chat-scroller"
      >
        {!hasOlder && rows.length > 0 ? (
          <p className="pb-2 text-center text-xs text-zinc-600 dark:text-zinc-400">{t("chat.start")}</p>
        ) : null}
        {rows.length === 0 ? (
          <div className="flex h-full flex-col items-center justify-center gap-2 p-4 text-center" data-testid="chat-empty">
            <Icon name="chat" className="size-8 text-violet-600 dark:text-violet-300" />
            <p className="text-sm text-zinc-700 dark:text-zinc-300">{t("chat.empty")}</p>
            <button
              type="button"
              className="text-sm font-medium text-violet-700 underline dark:text-violet-300"
              onClick={() => input.current?.focus()}
            >
              {t("chat.placeholder")}
            </button>
          </div>
        ) : null}
        <ol
          aria-label={t("chat.messages")}
          aria-live="polite"
          aria-relevant="additions"
          style={{ height: virtualizer.getTotalSize(), position: "relative" }}
        >
          {virtualizer.getVirtualItems().map((item) => {
            const row = rows[item.index];
            if (!row) return null;
            const mine = row.kind === "pending" || row.message.user?.id === myUserId;
            const author = row.kind === "pending" ? myName : (row.message.user?.display_name ?? t("chat.deleted"));
            const sample = row.kind === "message" && isDemo(row.message.user);
            const body = row.kind === "pending" ? row.pending.text : row.message.text;
            return (
              <li
                key={row.key}
                data-index={item.index}
                ref={virtualizer.measureElement}
                className={`absolute left-0 w-full py-1 ${mine ? "text-right" : ""}`}
                style={{ transform: `translateY(${item.start}px)` }}
                data-testid={row.kind === "pending" ? "chat-pending" : "chat-message"}
              >
                <div
                  className={`inline-block max-w-[85%] rounded-2xl px-3 py-1.5 text-left text-sm ${
                    row.kind === "pending"
                      ? "border border-dashed border-violet-400 bg-violet-50 text-violet-950 dark:bg-violet-950 dark:text-violet-50"
                      : mine
                        ? "bg-violet-700 text-white dark:bg-violet-800"
                        : "bg-white text-zinc-900 shadow-sm dark:bg-zinc-800 dark:text-zinc-100"
                  }`}
                >
                  <p className="min-w-0 break-words text-xs font-semibold [overflow-wrap:anywhere]">
                    {author}
                    {sample ? <span className="ml-1 font-normal italic">· {t("members.demo")}</span> : null}
                    {row.kind === "message" ? (
                      <time className="ml-2 font-normal" dateTime={row.message.created_at}>
                        {time(row.message.created_at)}
                      </time>
                    ) : null}
                  </p>
                  <p className="whitespace-pre-wrap break-words [overflow-wrap:anywhere]">{body}</p>
                  {row.kind === "pending" && row.pending.failed ? (
                    <button
                      type="button"
                      className="text-xs underline"
                      onClick={() => void onSend(row.pending.text, row.pending.clientId).catch(() => undefined)}
                    >
                      {t("chat.retry")}
                    </button>
                  ) : null}
                </div>
              </li>
            );
          })}
        </ol>
      </div>
      <form onSubmit={submit} className="flex gap-2">
        <TextInput
          ref={input}
          aria-label={t("chat.input")}
          placeholder={t("chat.placeholder")}
          value={text}
          maxLength={2000}
          onChange={(event) => setText(event.target.value)}
        />
        <Button type="submit" disabled={!text.trim()}>
          {t("chat.send")}
        </Button>
      </form>
      <ErrorNotice error={error} />
    </section>
  );
}

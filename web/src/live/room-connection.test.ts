import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { Message } from "../api/client.ts";
import { errorText } from "../shared/errors.ts";
import type { ApiError } from "../shared/fetchJson.ts";
import { makeI18n } from "../shared/i18n.ts";
import { createClockEstimator } from "../player/clock.ts";
import { resetSessionCache, signIn } from "../shared/session.ts";
import { ClockSync } from "../sync";
import { messagesAfter, RoomConnection, webSocketUrl } from "./room-connection.ts";
import type { RoomAction } from "./room-state.ts";

const ROOM = "3f1c5b0e-1b2c-4d5e-8f90-123456789abc";

/** The browser's WebSocket as the connection uses it: the test opens, feeds and closes it. */
class ScriptedSocket {
  static instances: ScriptedSocket[] = [];
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  readonly url: string;
  constructor(url: string) {
    this.url = url;
    ScriptedSocket.instances.push(this);
  }
  send(data: string) {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  receive(frame: unknown) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code, reason: "" });
  }
}

function message(seq: number): Message {
  return {
    id: `id-${seq}`,
    room_id: ROOM,
    seq,
    user: null,
    text: `m${seq}`,
    client_id: null,
    created_at: new Date(1_700_000_000_000 + seq).toISOString(),
  };
}

function setup(lastSeq = 0) {
  const actions: RoomAction[] = [];
  const refused: number[] = [];
  const commandErrors: ApiError[] = [];
  const connection = new RoomConnection({
    roomId: ROOM,
    dispatch: (action) => actions.push(action),
    clock: createClockEstimator(new ClockSync({ now: () => 1_000 })),
    onRefused: (code) => refused.push(code),
    onCommandError: (error) => commandErrors.push(error),
    webSocket: (url) => new ScriptedSocket(url) as unknown as WebSocket,
  });
  connection.setLastSeq(lastSeq);
  connection.start();
  return { connection, actions, refused, commandErrors, socket: () => ScriptedSocket.instances.at(-1)! };
}

beforeEach(() => {
  ScriptedSocket.instances = [];
  vi.useFakeTimers();
  signIn("tok", 3600);
});
afterEach(() => {
  vi.useRealTimers();
  localStorage.clear();
  resetSessionCache();
});

describe("RoomConnection", () => {
  it("hands refused commands to the room by their code, not chat errors", () => {
    const { socket, commandErrors } = setup();
    socket().open();
    socket().receive({ type: "error", code: "queue_empty", detail: "the queue is empty" });
    socket().receive({ type: "error", code: "rate_limited", detail: "too many", client_id: "c-1", retry_after_s: 3 });
    expect(commandErrors.map((error) => error.code)).toEqual(["queue_empty"]);
    expect(errorText(commandErrors[0], makeI18n("ru").t)).toBe("Играть пока нечего: сначала добавьте трек в очередь.");
  });

  it("connects with the token and says when it is live", () => {
    const { actions, socket } = setup();
    expect(socket().url).toBe(`ws://localhost:3000/ws/chat/${ROOM}?token=tok`);
    expect(actions).toContainEqual({ type: "connection", connection: "connecting" });
    socket().open();
    expect(actions.at(-1)).toEqual({ type: "connection", connection: "live" });
  });

  it("asks to resume when a message skips ahead of the last seq", () => {
    const { socket, actions } = setup(5);
    socket().open();
    socket().sent.length = 0;
    socket().receive({ type: "message", ...message(6) });
    expect(socket().sent).toEqual([]);
    socket().receive({ type: "message", ...message(9) });
    expect(socket().sent).toEqual([{ type: "resume", after_seq: 6 }]);
    const seqs = actions.flatMap((a) => (a.type === "messages" ? a.messages.map((m) => m.seq) : []));
    expect(seqs).toEqual([6, 9]);
  });

  it("reconnects by itself after a drop and resumes after the newest seq it has", () => {
    const { socket, actions } = setup(3);
    const first = socket();
    first.open();
    first.receive({ type: "message", ...message(4) });
    first.drop();
    expect(actions.at(-1)).not.toEqual({ type: "connection", connection: "live" });
    vi.advanceTimersByTime(1_300);
    const second = socket();
    expect(second).not.toBe(first);
    expect(actions).toContainEqual({ type: "connection", connection: "reconnecting" });
    second.open();
    expect(second.sent[0]).toEqual({ type: "resume", after_seq: 4 });
  });

  it("feeds pongs to the clock and playback to the store", () => {
    const { connection, socket, actions } = setup();
    socket().open();
    vi.advanceTimersByTime(0);
    expect(socket().sent[0]).toEqual({ type: "ping", t0: 1_000 });
    socket().receive({ type: "pong", t0: 1_000, t1: 6_000, t2: 6_000 });
    expect(connection.sendCommand({ type: "pause", version: 3 })).toBe(true);
    expect(socket().sent.at(-1)).toEqual({ type: "pause", version: 3 });
    socket().receive({
      type: "playback",
      reason: "play",
      state: { status: "idle", version: 4, track: null, entry_id: null },
    });
    expect(actions).toContainEqual(expect.objectContaining({ type: "playback" }));
  });

  it("stops for good when the room refuses or is deleted", () => {
    const { socket, refused, actions } = setup();
    socket().open();
    socket().drop(4403);
    vi.advanceTimersByTime(30_000);
    expect(ScriptedSocket.instances).toHaveLength(1);
    expect(refused).toEqual([4403]);
    expect(actions.at(-1)).toEqual({ type: "connection", connection: "offline" });
  });
});

describe("messagesAfter", () => {
  it("pages back with before_seq until it reaches the seq it had, oldest first", async () => {
    vi.useRealTimers();
    const newest = 130;
    const asked: string[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (request: Request) => {
        const url = new URL(request.url);
        asked.push(url.search);
        const before = Number(url.searchParams.get("before_seq") ?? newest + 1);
        const limit = Number(url.searchParams.get("limit"));
        const page = [];
        for (let seq = before - 1; seq > Math.max(0, before - 1 - limit); seq--) page.push(message(seq));
        return new Response(JSON.stringify(page), { status: 200 });
      }),
    );
    const missed = await messagesAfter(ROOM, 40);
    expect(missed.map((m) => m.seq)).toEqual(Array.from({ length: 90 }, (_, i) => 41 + i));
    expect(asked).toEqual(["?limit=50", "?limit=50&before_seq=81"]);
  });

  it("builds a wss URL on https pages", () => {
    expect(webSocketUrl(ROOM, "t k", "https://tunewave.example")).toBe(
      `wss://tunewave.example/ws/chat/${ROOM}?token=t+k`,
    );
  });
});

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

/** Let the connection's awaits (ticket, renewal) settle. */
async function settle() {
  await vi.advanceTimersByTimeAsync(0);
}

async function setup(lastSeq = 0, renew: () => Promise<boolean> = async () => true) {
  const actions: RoomAction[] = [];
  const refused: number[] = [];
  const tickets: string[] = [];
  const renewals: number[] = [];
  const commandErrors: ApiError[] = [];
  const connection = new RoomConnection({
    roomId: ROOM,
    dispatch: (action) => actions.push(action),
    clock: createClockEstimator(new ClockSync({ now: () => 1_000 })),
    onRefused: (code) => refused.push(code),
    onCommandError: (error) => commandErrors.push(error),
    webSocket: (url) => new ScriptedSocket(url) as unknown as WebSocket,
    ticket: async () => {
      const ticket = `ticket-${tickets.length + 1}`;
      tickets.push(ticket);
      return ticket;
    },
    renew: async () => {
      renewals.push(Date.now());
      return renew();
    },
  });
  connection.setLastSeq(lastSeq);
  connection.start();
  await settle();
  return {
    connection,
    actions,
    refused,
    tickets,
    renewals,
    commandErrors,
    socket: () => ScriptedSocket.instances.at(-1)!,
  };
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
  it("hands refused commands to the room by their code, not chat errors", async () => {
    const { socket, commandErrors } = await setup();
    socket().open();
    socket().receive({ type: "error", code: "queue_empty", detail: "the queue is empty" });
    socket().receive({ type: "error", code: "rate_limited", detail: "too many", client_id: "c-1", retry_after_s: 3 });
    expect(commandErrors.map((error) => error.code)).toEqual(["queue_empty"]);
    expect(errorText(commandErrors[0], makeI18n("ru").t)).toBe("Играть пока нечего: сначала добавьте трек в очередь.");
  });

  it("connects with a single-use ticket, never the token, and says when it is live", async () => {
    const { actions, socket } = await setup();
    expect(socket().url).toBe(`ws://localhost:3000/ws/chat/${ROOM}?ticket=ticket-1`);
    expect(socket().url).not.toContain("tok&");
    expect(socket().url).not.toContain("token=");
    expect(actions).toContainEqual({ type: "connection", connection: "connecting" });
    socket().open();
    expect(actions.at(-1)).toEqual({ type: "connection", connection: "live" });
  });

  it("asks to resume when a message skips ahead of the last seq", async () => {
    const { socket, actions } = await setup(5);
    socket().open();
    socket().sent.length = 0;
    socket().receive({ type: "message", ...message(6) });
    expect(socket().sent).toEqual([]);
    socket().receive({ type: "message", ...message(9) });
    expect(socket().sent).toEqual([{ type: "resume", after_seq: 6 }]);
    const seqs = actions.flatMap((a) => (a.type === "messages" ? a.messages.map((m) => m.seq) : []));
    expect(seqs).toEqual([6, 9]);
  });

  it("reconnects by itself after a drop with a fresh ticket and resumes after the newest seq", async () => {
    const { socket, actions, tickets } = await setup(3);
    const first = socket();
    first.open();
    first.receive({ type: "message", ...message(4) });
    first.drop();
    expect(actions.at(-1)).not.toEqual({ type: "connection", connection: "live" });
    await vi.advanceTimersByTimeAsync(1_300);
    const second = socket();
    expect(second).not.toBe(first);
    expect(tickets).toEqual(["ticket-1", "ticket-2"]);
    expect(second.url).toContain("ticket=ticket-2");
    expect(actions).toContainEqual({ type: "connection", connection: "reconnecting" });
    second.open();
    expect(second.sent[0]).toEqual({ type: "resume", after_seq: 4 });
  });

  it("feeds pongs to the clock and playback to the store", async () => {
    const { connection, socket, actions } = await setup();
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

  it("applies a presence batch's changes one by one, in order, like single frames", async () => {
    const { socket, actions } = await setup();
    socket().open();
    const ann = { id: "u1", display_name: "Ann", avatar_url: null, is_demo: false };
    const bob = { id: "u2", display_name: "Bob", avatar_url: null, is_demo: false };
    socket().receive({ type: "joined", user: ann, online: 1 });
    socket().receive({
      type: "presence",
      events: [
        { type: "joined", user: bob, online: 2 },
        { type: "left", user: ann, online: 1 },
        { type: "surprise", user: ann, online: 0 },
      ],
    });
    const presence = actions.filter((action) => action.type === "presence");
    expect(presence).toEqual([
      { type: "presence", event: "joined", user: expect.objectContaining({ id: "u1" }) },
      { type: "presence", event: "joined", user: expect.objectContaining({ id: "u2" }) },
      { type: "presence", event: "left", user: expect.objectContaining({ id: "u1" }) },
    ]);
  });

  it("stops for good when the room refuses or is deleted", async () => {
    const { socket, refused, actions } = await setup();
    socket().open();
    socket().drop(4403);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(ScriptedSocket.instances).toHaveLength(1);
    expect(refused).toEqual([4403]);
    expect(actions.at(-1)).toEqual({ type: "connection", connection: "offline" });
  });
});

describe("RoomConnection and the token's expiry", () => {
  it("renews the token when the server closes with 4402, then reconnects at once and resumes", async () => {
    const { socket, renewals, tickets } = await setup(7);
    const first = socket();
    first.open();
    first.receive({ type: "message", ...message(8) });
    first.drop(4402);
    await settle();
    expect(renewals).toHaveLength(1);
    const second = socket();
    expect(second).not.toBe(first);
    expect(tickets).toEqual(["ticket-1", "ticket-2"]);
    second.open();
    expect(second.sent[0]).toEqual({ type: "resume", after_seq: 8 });
  });

  it("renews before connecting when the session is about to end", async () => {
    signIn("tok", 60);
    const { renewals, socket } = await setup();
    expect(renewals).toHaveLength(1);
    expect(socket().url).toContain("ticket=ticket-1");
  });

  it("backs off instead of looping when the renewal is refused", async () => {
    const { socket, renewals } = await setup(0, async () => false);
    socket().drop(4402);
    await settle();
    expect(renewals).toHaveLength(1);
    expect(ScriptedSocket.instances).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_300);
    expect(ScriptedSocket.instances).toHaveLength(2);
  });

  it("retries later when no ticket can be had", async () => {
    const actions: RoomAction[] = [];
    let calls = 0;
    const connection = new RoomConnection({
      roomId: ROOM,
      dispatch: (action) => actions.push(action),
      clock: createClockEstimator(new ClockSync({ now: () => 1_000 })),
      webSocket: (url) => new ScriptedSocket(url) as unknown as WebSocket,
      ticket: async () => {
        calls += 1;
        if (calls === 1) throw new Error("offline");
        return "ticket-ok";
      },
      renew: async () => true,
    });
    connection.start();
    await settle();
    expect(ScriptedSocket.instances).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1_300);
    expect(ScriptedSocket.instances.at(-1)?.url).toContain("ticket=ticket-ok");
    connection.stop();
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

  it("builds a wss URL on https pages, with the ticket", () => {
    expect(webSocketUrl(ROOM, "t k", "https://tunewave.example")).toBe(
      `wss://tunewave.example/ws/chat/${ROOM}?ticket=t+k`,
    );
  });
});

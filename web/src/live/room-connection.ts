/**
 * Keeps a room's store up to date: the first snapshot over REST, then the live channel
 * (docs/realtime.md), reconnecting by itself with back-off and resuming chat from the last
 * seq it has, so nothing is missed or shown twice. Where the live channel cannot be reached
 * at all, it polls the REST endpoints instead and says so.
 *
 * Each connection opens with a fresh single-use ticket, never the token itself; when the
 * server closes a socket because its token expired (4402), the session is renewed and the
 * connection comes straight back, resuming after the last seq (live-auth.ts).
 */
import { api, ApiError, type Message, unwrap, type User } from "../api/client.ts";
import type { components } from "../api/schema.d.ts";
import { isRecord } from "../shared/fetchJson.ts";
import { getToken } from "../shared/session.ts";
import type { ClockEstimator } from "../player/clock.ts";
import { ensureFreshSession, fetchTicket, renewSession } from "./live-auth.ts";
import { parsePlayback } from "./playback.ts";
import type { RoomAction } from "./room-state.ts";

const PAGE = 50;
const POLL_MS = 2_000;
// The estimate keeps the fastest samples of a window: ping often while a connection is young
// (page load and first renders make round trips slow and lopsided), then rarely.
const PING_EARLY_MS = 1_000;
const PING_EARLY_COUNT = 30;
const PING_EVERY_MS = 5_000;
const MAX_BACKOFF_MS = 10_000;

export type Dispatch = (action: RoomAction) => void;

/** Every frame the server sends on the live channel (api/live/wire.py, generated). */
export type ServerFrame = components["schemas"]["ServerFrame"];
type PresenceUser = components["schemas"]["PresenceUser"];
type JoinedFrame = components["schemas"]["JoinedFrame"];
type LeftFrame = components["schemas"]["LeftFrame"];

/** A presence frame's user as the store keeps members (no name: not listed as a member). */
function presenceUser(user: PresenceUser): Pick<User, "id"> & Partial<User> {
  const { display_name: displayName, ...rest } = user;
  return displayName === null || displayName === undefined ? rest : { ...rest, display_name: displayName };
}

export interface RoomConnectionOptions {
  roomId: string;
  dispatch: Dispatch;
  clock: ClockEstimator;
  /** Called with the close code when the server refuses the room (4403/4404/4410). */
  onRefused?: (code: number, reason: string) => void;
  /** A command frame the server refused (`error` frame: `owner_only`, `queue_empty`...). */
  onCommandError?: (error: ApiError) => void;
  webSocket?: (url: string) => WebSocket;
  /** A single-use ticket for the next connection (tests inject their own). */
  ticket?: () => Promise<string>;
  /** Renew the session's token; true when a fresh one is stored. */
  renew?: () => Promise<boolean>;
}

/** Every message newer than `afterSeq`, oldest first, paging back from the newest. */
export async function messagesAfter(roomId: string, afterSeq: number): Promise<Message[]> {
  const collected: Message[] = [];
  let before: number | undefined;
  for (let guard = 0; guard < 40; guard++) {
    const page = await unwrap(
      api.GET("/chat/{room_id}", {
        params: {
          path: { room_id: roomId },
          query: { limit: PAGE, ...(before !== undefined ? { before_seq: before } : {}) },
        },
      }),
    );
    const fresh = page.filter((message) => message.seq > afterSeq);
    collected.push(...fresh);
    const oldest = page.at(-1);
    if (page.length < PAGE || !oldest || oldest.seq <= afterSeq + 1 || fresh.length < page.length) {
      break;
    }
    before = oldest.seq;
  }
  return collected.sort((a, b) => a.seq - b.seq);
}

/** The live channel's URL with a single-use ticket (POST /auth/ws-ticket), never a token. */
export function webSocketUrl(roomId: string, ticket: string, origin = window.location.origin) {
  const url = new URL(`/ws/chat/${encodeURIComponent(roomId)}`, origin);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("ticket", ticket);
  return url.toString();
}

export class RoomConnection {
  private readonly options: RoomConnectionOptions;
  private socket: WebSocket | null = null;
  private stopped = false;
  private attempts = 0;
  private lastSeq = 0;
  private everOpened = false;
  private timers: ReturnType<typeof setTimeout>[] = [];
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private pollTimer: ReturnType<typeof setInterval> | null = null;

  constructor(options: RoomConnectionOptions) {
    this.options = options;
  }

  /** The highest seq in the store; the page keeps it current. */
  setLastSeq(seq: number) {
    this.lastSeq = Math.max(this.lastSeq, seq);
  }

  start() {
    this.connect();
  }

  stop() {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.socket?.close(1000, "leaving");
    this.socket = null;
  }

  /** Send a playback command; false when the live channel is not open. */
  sendCommand(frame: Record<string, unknown>): boolean {
    if (this.socket?.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  private dispatch(action: RoomAction) {
    if (!this.stopped) this.options.dispatch(action);
  }

  private connect() {
    void this.open();
  }

  private async open() {
    if (this.stopped || !getToken()) return;
    // While polling keeps the room current, say so rather than "connecting" on every retry.
    if (!this.pollTimer) {
      this.dispatch({ type: "connection", connection: this.everOpened ? "reconnecting" : "connecting" });
    }
    let url: string;
    try {
      const renew = this.options.renew ?? renewSession;
      if (!(await ensureFreshSession(Date.now(), undefined, renew))) return;
      const ticket = await (this.options.ticket ?? fetchTicket)();
      url = webSocketUrl(this.options.roomId, ticket);
    } catch {
      // No ticket (network down, API restarting): try again like after a dropped socket.
      this.retryLater();
      return;
    }
    if (this.stopped || this.socket) return;
    const socket = this.options.webSocket ? this.options.webSocket(url) : new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => {
      this.attempts = 0;
      this.everOpened = true;
      this.stopPolling();
      this.dispatch({ type: "connection", connection: "live" });
      if (this.lastSeq > 0) socket.send(JSON.stringify({ type: "resume", after_seq: this.lastSeq }));
      for (let i = 0; i < 8; i++) {
        this.timers.push(setTimeout(() => this.ping(), i * 120));
      }
      if (this.pingTimer) clearInterval(this.pingTimer);
      let early = 0;
      this.pingTimer = setInterval(() => {
        early += 1;
        this.ping();
        if (early === PING_EARLY_COUNT && this.pingTimer) {
          clearInterval(this.pingTimer);
          this.pingTimer = setInterval(() => this.ping(), PING_EVERY_MS);
        }
      }, PING_EARLY_MS);
    };
    socket.onmessage = (event) => {
      try {
        this.handleFrame(JSON.parse(String(event.data)) as unknown);
      } catch {
        // A frame we cannot read is ignored; the next resume fills any gap.
      }
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.pingTimer) clearInterval(this.pingTimer);
      if (this.stopped) return;
      if ([4403, 4404, 4410].includes(event.code)) {
        this.dispatch({ type: "connection", connection: "offline" });
        this.options.onRefused?.(event.code, event.reason);
        return;
      }
      if (event.code === 4402) {
        // The token the socket was opened with expired: renew it and come straight back.
        void (this.options.renew ?? renewSession)().then((renewed) => {
          if (renewed) this.connect();
          else this.retryLater();
        });
        return;
      }
      if (event.code === 4401) {
        // The token is bad: the API client's 401 handling ends the session.
        void api.GET("/users/me").catch(() => undefined);
      }
      this.retryLater();
    };
  }

  private retryLater() {
    if (this.stopped) return;
    this.attempts += 1;
    // Never reached the channel: keep the room usable over REST meanwhile.
    if (!this.everOpened || this.attempts > 2) this.startPolling();
    const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(this.attempts, 5));
    const jitter = Math.random() * 250;
    this.timers.push(setTimeout(() => this.connect(), delay + jitter));
  }

  private ping() {
    if (this.socket?.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(this.options.clock.makePing()));
    }
  }

  private presenceChanged(frame: JoinedFrame | LeftFrame) {
    if (isRecord(frame) && (frame.type === "joined" || frame.type === "left") && isRecord(frame.user)) {
      this.dispatch({ type: "presence", event: frame.type, user: presenceUser(frame.user) });
    }
  }

  private handleFrame(raw: unknown) {
    if (!isRecord(raw) || typeof raw.type !== "string") return;
    // The server's frames are the generated ServerFrame union (docs/realtime.md).
    const frame = raw as ServerFrame;
    switch (frame.type) {
      case "hello": {
        const playback = parsePlayback(frame.playback);
        this.dispatch({ type: "playback", playback });
        if (Array.isArray(frame.online)) {
          const ids = frame.online.filter(isRecord).map((user) => String(user.id));
          this.dispatch({ type: "online", userIds: ids });
        }
        if (typeof frame.last_seq === "number" && frame.last_seq > this.lastSeq) {
          // A gap between the snapshot and this connection: fill it.
          if (this.lastSeq === 0) void this.fillGap();
          else this.socket?.send(JSON.stringify({ type: "resume", after_seq: this.lastSeq }));
        }
        break;
      }
      case "message": {
        const message: Message = frame;
        if (message.seq > this.lastSeq + 1 && this.lastSeq > 0) {
          this.socket?.send(JSON.stringify({ type: "resume", after_seq: this.lastSeq }));
        }
        this.setLastSeq(message.seq);
        this.dispatch({ type: "messages", messages: [message] });
        break;
      }
      case "joined":
      case "left":
        this.presenceChanged(frame);
        break;
      case "presence":
        // Several changes gathered by the server, in order: each as if it came alone.
        if (Array.isArray(frame.events)) {
          for (const event of frame.events) this.presenceChanged(event);
        }
        break;
      case "playback":
        this.dispatch({ type: "playback", playback: parsePlayback(frame.state) });
        // Starting, skipping and advancing change the entries' status: the queue follows.
        void this.refreshQueue();
        break;
      case "pong":
        if (typeof frame.t0 === "number" && typeof frame.t1 === "number" && typeof frame.t2 === "number") {
          this.options.clock.addPong(frame.t0, frame.t1, frame.t2);
        }
        break;
      case "queue":
        void this.refreshQueue();
        break;
      case "member_joined":
      case "member_left":
        void this.refreshMembers();
        break;
      case "room_updated":
        void this.refreshRoom();
        break;
      case "room_deleted":
        this.options.onRefused?.(4410, "room deleted");
        break;
      case "error":
        // Chat goes over REST, so a frame error without a client_id answers a command.
        if (typeof frame.code === "string" && frame.client_id === undefined) {
          this.options.onCommandError?.(
            new ApiError(0, frame.detail, `live channel: ${frame.code}`, frame),
          );
        }
        break;
    }
  }

  private async fillGap() {
    const messages = await messagesAfter(this.options.roomId, this.lastSeq).catch(() => []);
    for (const message of messages) this.setLastSeq(message.seq);
    this.dispatch({ type: "messages", messages });
  }

  async refreshQueue() {
    const queue = await unwrap(
      api.GET("/rooms/{room_id}/queue", { params: { path: { room_id: this.options.roomId } } }),
    ).catch(() => null);
    if (queue) this.dispatch({ type: "queue", queue });
  }

  async refreshMembers() {
    const members = await unwrap(
      api.GET("/rooms/{room_id}/members", { params: { path: { room_id: this.options.roomId } } }),
    ).catch(() => null);
    if (members) this.dispatch({ type: "members", members });
  }

  async refreshRoom() {
    try {
      const room = await unwrap(
        api.GET("/rooms/{room_id}", { params: { path: { room_id: this.options.roomId } } }),
      );
      this.dispatch({ type: "room", room });
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        this.options.onRefused?.(4404, "room not found");
      }
    }
  }

  async refreshPlayback() {
    const raw = await unwrap(
      api.GET("/rooms/{room_id}/playback", { params: { path: { room_id: this.options.roomId } } }),
    ).catch(() => null);
    if (raw !== null) this.dispatch({ type: "playback", playback: parsePlayback(raw) });
  }

  private startPolling() {
    if (this.pollTimer || this.stopped) return;
    this.dispatch({ type: "connection", connection: "polling" });
    let round = 0;
    this.pollTimer = setInterval(() => {
      round += 1;
      void this.fillGap();
      void this.refreshPlayback();
      if (round % 3 === 0) {
        void this.refreshQueue();
        void this.refreshMembers();
      }
    }, POLL_MS);
  }

  private stopPolling() {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
  }
}

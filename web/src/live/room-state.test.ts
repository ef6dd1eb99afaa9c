import { describe, expect, it } from "vitest";

import type { Message, QueueEntry } from "../api/client.ts";
import { parsePlayback } from "./playback.ts";
import { initialRoomState, lastSeq, roomReducer, type RoomAction, type RoomState } from "./room-state.ts";

function message(seq: number, clientId: string | null = null, text = `m${seq}`): Message {
  return {
    id: `id-${seq}`,
    room_id: "r1",
    seq,
    user: { id: "u1", display_name: "Ann", avatar_url: null, is_demo: false },
    text,
    client_id: clientId,
    created_at: new Date(1_700_000_000_000 + seq * 1000).toISOString(),
  };
}

function run(...actions: RoomAction[]): RoomState {
  return actions.reduce(roomReducer, initialRoomState);
}

describe("room chat", () => {
  it("keeps messages in seq order without duplicates, whatever order they arrive in", () => {
    const state = run(
      { type: "messages", messages: [message(3), message(1)] },
      { type: "messages", messages: [message(2), message(3)] },
      { type: "older", messages: [message(1)], hasOlder: false },
    );
    expect(state.messages.map((item) => item.seq)).toEqual([1, 2, 3]);
    expect(state.hasOlder).toBe(false);
    expect(lastSeq(state)).toBe(3);
  });

  it("shows an own message at once and replaces it by the stored one, once", () => {
    const sending = run({ type: "send", clientId: "c-1", text: "hello" });
    expect(sending.pending).toEqual([{ clientId: "c-1", text: "hello", failed: false }]);
    // The live echo and the POST answer both arrive: one message, no pending left.
    const stored = message(7, "c-1", "hello");
    const confirmed = [
      { type: "messages", messages: [stored] },
      { type: "messages", messages: [stored] },
    ].reduce((state, action) => roomReducer(state, action as RoomAction), sending);
    expect(confirmed.pending).toEqual([]);
    expect(confirmed.messages).toEqual([stored]);
  });

  it("marks a failed send and retries it under the same client id", () => {
    const failed = run({ type: "send", clientId: "c-2", text: "hi" }, { type: "send-failed", clientId: "c-2" });
    expect(failed.pending[0]?.failed).toBe(true);
    const retried = roomReducer(failed, { type: "send", clientId: "c-2", text: "hi" });
    expect(retried.pending).toEqual([{ clientId: "c-2", text: "hi", failed: false }]);
  });

  it("confirms pending messages found in a resumed page after a reconnect", () => {
    const state = run(
      { type: "send", clientId: "c-3", text: "while away" },
      { type: "older", messages: [message(9, "c-3", "while away")], hasOlder: true },
    );
    expect(state.pending).toEqual([]);
    expect(state.messages).toHaveLength(1);
  });
});

describe("room presence, queue and playback", () => {
  const ann = { id: "u1", display_name: "Ann", email: null, avatar_url: null, favorite_genres: [], is_demo: false, created_at: "" };

  it("tracks who is here", () => {
    const state = run(
      { type: "members", members: [ann] },
      { type: "online", userIds: ["u1"] },
      { type: "presence", event: "joined", user: { id: "u2", display_name: "Bob" } },
    );
    expect(Object.keys(state.online).sort()).toEqual(["u1", "u2"]);
    expect(state.members.map((member) => member.id)).toEqual(["u1", "u2"]);
    const left = roomReducer(state, { type: "presence", event: "left", user: { id: "u1" } });
    expect(Object.keys(left.online)).toEqual(["u2"]);
    expect(left.members).toHaveLength(2);
  });

  it("orders the queue by position", () => {
    const entry = (id: string, position: number) => ({ association_id: id, position }) as QueueEntry;
    const state = run({ type: "queue", queue: [entry("b", 2), entry("a", 1)] });
    expect(state.queue.map((item) => item.association_id)).toEqual(["a", "b"]);
  });

  it("reads the playback state of docs/realtime.md", () => {
    const track = { id: "x", spotify_id: "sp1", title: "Song", artist_names: "A, B", duration_ms: 215_000, image_url: null };
    const playing = parsePlayback({
      room_id: "r1", version: 7, status: "playing", entry_id: "e1", track,
      started_at_ms: 1_000, paused_position_ms: null, position_ms: 12_345, server_time_ms: 13_345,
    });
    expect(playing).toMatchObject({
      version: 7, status: "playing", playing: true, entryId: "e1", trackId: "sp1",
      durationMs: 215_000, positionMs: 0, anchorServerMs: 1_000,
    });
    expect(playing?.track).toEqual({ spotifyId: "sp1", title: "Song", artists: "A, B", durationMs: 215_000, imageUrl: null });
    const paused = parsePlayback({ status: "paused", version: 8, entry_id: "e1", track, started_at_ms: null, paused_position_ms: 40_000 });
    expect(paused).toMatchObject({ playing: false, positionMs: 40_000 });
    expect(parsePlayback({ status: "idle", version: 9, track: null })).toMatchObject({ status: "idle", trackId: null, playing: false });
    expect(parsePlayback({ status: "bogus" })).toBeNull();
    expect(parsePlayback("nope")).toBeNull();
    const state = run({ type: "playback", playback: playing });
    expect(state.playback?.version).toBe(7);
  });
});

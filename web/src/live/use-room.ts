/**
 * The room page's data: get in (joining public rooms, asking for the password of private
 * ones), load the snapshot, then keep it live through a RoomConnection.
 */
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from "react";

import { api, unwrap, type User } from "../api/client.ts";
import { retryAfterSeconds } from "../shared/errors.ts";
import { createClockEstimator } from "../player/clock.ts";
import { messagesAfter, RoomConnection } from "./room-connection.ts";
import { initialRoomState, lastSeq, roomReducer } from "./room-state.ts";

const FIRST_PAGE = 50;

/** Why the room view ended: the room went away, the server refused us, or a failed call. */
export type GoneReason = "room-deleted" | "room-not-found" | "refused" | { error: unknown };

export type Access =
  | { state: "checking" }
  /** `lockedUntilMs`: too many wrong passwords; Join waits until then (Retry-After). */
  | { state: "password"; error: unknown; busy: boolean; lockedUntilMs: number | null }
  | { state: "in" }
  | { state: "gone"; reason: GoneReason };

function refusalReason(code: number): GoneReason {
  if (code === 4410) return "room-deleted";
  if (code === 4404) return "room-not-found";
  return "refused";
}

function newClientId(): string {
  const random =
    typeof crypto !== "undefined" && "randomUUID" in crypto
      ? crypto.randomUUID()
      : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  return `c-${random}`;
}

export function useRoom(roomId: string, me: User | undefined) {
  const [state, dispatch] = useReducer(roomReducer, initialRoomState);
  const [access, setAccess] = useState<Access>({ state: "checking" });
  const [commandError, setCommandError] = useState<unknown>(null);
  const clock = useMemo(() => createClockEstimator(), []);
  const connection = useRef<RoomConnection | null>(null);
  const path = { room_id: roomId };

  // Get in: public rooms join on open; private ones are entered by members only.
  useEffect(() => {
    let cancelled = false;
    (async () => {
      try {
        const room = await unwrap(api.GET("/rooms/{room_id}", { params: { path } }));
        if (cancelled) return;
        dispatch({ type: "room", room });
        if (!room.is_private) {
          await unwrap(api.POST("/rooms/{room_id}/join", { params: { path } }));
          if (!cancelled) setAccess({ state: "in" });
          return;
        }
        const members = await api.GET("/rooms/{room_id}/members", { params: { path } });
        if (cancelled) return;
        if (members.response.status === 403) {
          setAccess({ state: "password", error: null, busy: false, lockedUntilMs: null });
        } else {
          await unwrap(Promise.resolve(members));
          setAccess({ state: "in" });
        }
      } catch (error) {
        if (!cancelled) setAccess({ state: "gone", reason: { error } });
      }
    })();
    return () => {
      cancelled = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [roomId]);

  const joinWithPassword = useCallback(
    async (password: string) => {
      setAccess({ state: "password", error: null, busy: true, lockedUntilMs: null });
      try {
        await unwrap(
          api.POST("/rooms/{room_id}/join", { params: { path: { room_id: roomId } }, body: { password } }),
        );
        setAccess({ state: "in" });
      } catch (error) {
        const waitS = retryAfterSeconds(error);
        setAccess({
          state: "password",
          error,
          busy: false,
          lockedUntilMs: waitS ? Date.now() + waitS * 1000 : null,
        });
      }
    },
    [roomId],
  );

  // Inside: the snapshot, then the live channel.
  useEffect(() => {
    if (access.state !== "in") return;
    const live = new RoomConnection({
      roomId,
      dispatch,
      clock,
      onRefused: (code) => setAccess({ state: "gone", reason: refusalReason(code) }),
      onCommandError: setCommandError,
    });
    connection.current = live;
    let cancelled = false;
    (async () => {
      const p = { params: { path: { room_id: roomId } } };
      const [members, queue, page] = await Promise.all([
        unwrap(api.GET("/rooms/{room_id}/members", p)).catch(() => null),
        unwrap(api.GET("/rooms/{room_id}/queue", p)).catch(() => null),
        unwrap(
          api.GET("/chat/{room_id}", {
            params: { path: { room_id: roomId }, query: { limit: FIRST_PAGE } },
          }),
        ).catch(() => null),
      ]);
      if (cancelled) return;
      if (members) dispatch({ type: "members", members });
      if (queue) dispatch({ type: "queue", queue });
      if (page) {
        dispatch({ type: "older", messages: page, hasOlder: page.length === FIRST_PAGE });
        live.setLastSeq(page[0]?.seq ?? 0);
      }
      await live.refreshPlayback();
      if (!cancelled) live.start();
    })();
    return () => {
      cancelled = true;
      live.stop();
      connection.current = null;
    };
  }, [access.state, roomId, clock]);

  // The connection resumes chat from the newest seq the store holds.
  useEffect(() => {
    connection.current?.setLastSeq(lastSeq(state));
  }, [state]);

  const loadOlder = useCallback(async () => {
    const oldest = state.messages[0];
    if (!state.hasOlder || !oldest) return;
    const page = await unwrap(
      api.GET("/chat/{room_id}", {
        params: { path: { room_id: roomId }, query: { limit: FIRST_PAGE, before_seq: oldest.seq } },
      }),
    );
    dispatch({ type: "older", messages: page, hasOlder: page.length === FIRST_PAGE });
  }, [roomId, state.hasOlder, state.messages]);

  const send = useCallback(
    async (text: string, clientId: string = newClientId()) => {
      dispatch({ type: "send", clientId, text });
      try {
        const message = await unwrap(
          api.POST("/chat/{room_id}", {
            params: { path: { room_id: roomId } },
            body: { text, client_id: clientId },
          }),
        );
        dispatch({ type: "messages", messages: [message] });
      } catch (error) {
        dispatch({ type: "send-failed", clientId });
        throw error;
      }
    },
    [roomId],
  );

  const resumeGap = useCallback(async () => {
    const messages = await messagesAfter(roomId, lastSeq(state));
    dispatch({ type: "messages", messages });
  }, [roomId, state]);

  /** Leave the room (an owner hands it on, or closes it when alone: docs/web.md). */
  const leave = useCallback(async () => {
    await unwrap(api.POST("/rooms/{room_id}/leave", { params: { path: { room_id: roomId } } }));
  }, [roomId]);

  return {
    state,
    access,
    commandError,
    clearCommandError: () => setCommandError(null),
    leave,
    me,
    clock,
    joinWithPassword,
    loadOlder,
    send,
    resumeGap,
    command: (frame: Record<string, unknown>) => connection.current?.sendCommand(frame) ?? false,
    refreshQueue: () => connection.current?.refreshQueue(),
    refreshRoom: () => connection.current?.refreshRoom(),
    refreshPlayback: () => connection.current?.refreshPlayback(),
  };
}

export type RoomModel = ReturnType<typeof useRoom>;

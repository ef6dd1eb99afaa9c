/**
 * The live room's one store: a pure reducer over everything the room page shows that changes
 * while you watch (chat, members and presence, queue, playback, the connection).
 *
 * Chat is ordered by the room's `seq`. Own messages appear at once as pending (keyed by their
 * `client_id`) and are replaced by the stored message when it comes back, whether from the POST
 * answer, the live channel or a resumed page, so nothing shows twice after a reconnect.
 */
import type { Message, QueueEntry, Room, User } from "../api/client.ts";
import type { RoomPlayback } from "./playback.ts";

export type ConnectionState = "connecting" | "live" | "polling" | "reconnecting" | "offline";

export interface PendingMessage {
  clientId: string;
  text: string;
  failed: boolean;
}

export interface RoomState {
  room: Room | null;
  members: User[];
  online: Record<string, true>;
  /** Stored messages by seq, oldest first. */
  messages: Message[];
  pending: PendingMessage[];
  /** False once the first message of the room has been loaded. */
  hasOlder: boolean;
  queue: QueueEntry[];
  playback: RoomPlayback | null;
  connection: ConnectionState;
}

export const initialRoomState: RoomState = {
  room: null,
  members: [],
  online: {},
  messages: [],
  pending: [],
  hasOlder: true,
  queue: [],
  playback: null,
  connection: "connecting",
};

export type RoomAction =
  | { type: "room"; room: Room }
  | { type: "members"; members: User[] }
  | { type: "presence"; event: "joined" | "left"; user: Pick<User, "id"> & Partial<User> }
  | { type: "online"; userIds: string[] }
  | { type: "messages"; messages: Message[] }
  | { type: "older"; messages: Message[]; hasOlder: boolean }
  | { type: "send"; clientId: string; text: string }
  | { type: "send-failed"; clientId: string }
  | { type: "queue"; queue: QueueEntry[] }
  | { type: "playback"; playback: RoomPlayback | null }
  | { type: "connection"; connection: ConnectionState };

/** Merge messages into a seq-ordered list without duplicates (later copies win). */
export function mergeMessages(current: Message[], incoming: Message[]): Message[] {
  if (incoming.length === 0) return current;
  const bySeq = new Map<number, Message>();
  for (const message of current) bySeq.set(message.seq, message);
  for (const message of incoming) bySeq.set(message.seq, message);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

function confirmPending(pending: PendingMessage[], messages: Message[]): PendingMessage[] {
  if (pending.length === 0) return pending;
  const confirmed = new Set(messages.map((message) => message.client_id).filter(Boolean));
  return confirmed.size ? pending.filter((item) => !confirmed.has(item.clientId)) : pending;
}

export function lastSeq(state: RoomState): number {
  return state.messages.at(-1)?.seq ?? 0;
}

export function roomReducer(state: RoomState, action: RoomAction): RoomState {
  switch (action.type) {
    case "room":
      return { ...state, room: action.room };
    case "members": {
      return { ...state, members: action.members };
    }
    case "presence": {
      const online = { ...state.online };
      let members = state.members;
      if (action.event === "joined") {
        online[action.user.id] = true;
        if (!members.some((member) => member.id === action.user.id) && action.user.display_name) {
          members = [...members, action.user as User];
        }
      } else {
        delete online[action.user.id];
      }
      return { ...state, online, members };
    }
    case "online":
      return {
        ...state,
        online: Object.fromEntries(action.userIds.map((id) => [id, true as const])),
      };
    case "messages":
      return {
        ...state,
        messages: mergeMessages(state.messages, action.messages),
        pending: confirmPending(state.pending, action.messages),
      };
    case "older":
      return {
        ...state,
        messages: mergeMessages(state.messages, action.messages),
        pending: confirmPending(state.pending, action.messages),
        hasOlder: action.hasOlder,
      };
    case "send":
      if (state.pending.some((item) => item.clientId === action.clientId)) {
        return {
          ...state,
          pending: state.pending.map((item) =>
            item.clientId === action.clientId ? { ...item, failed: false } : item,
          ),
        };
      }
      return {
        ...state,
        pending: [...state.pending, { clientId: action.clientId, text: action.text, failed: false }],
      };
    case "send-failed":
      return {
        ...state,
        pending: state.pending.map((item) =>
          item.clientId === action.clientId ? { ...item, failed: true } : item,
        ),
      };
    case "queue":
      return { ...state, queue: [...action.queue].sort((a, b) => a.position - b.position) };
    case "playback":
      return { ...state, playback: action.playback };
    case "connection":
      return { ...state, connection: action.connection };
  }
}

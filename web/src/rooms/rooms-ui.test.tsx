import { act, cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { Room } from "../api/client.ts";
import { renderIn, stubApi, testQueryClient } from "../test/render.tsx";
import { EditRoomForm } from "./EditRoomForm.tsx";
import { Members } from "./Members.tsx";
import { PasswordPrompt } from "./PasswordPrompt.tsx";
import { RoomCounts, RoomList } from "./RoomList.tsx";
import { ApiError } from "../shared/fetchJson.ts";

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const room = (fields: Partial<Room> & Record<string, unknown> = {}): Room =>
  ({
    id: "3f1c5b0e-1b2c-4d5e-8f90-123456789abc",
    name: "Night Shift",
    description: "",
    owner_id: null,
    is_private: false,
    genres: [],
    member_count: 14,
    queue_policy: "members",
    created_at: "2026-12-01T00:00:00Z",
    last_activity_at: "2026-12-01T00:00:00Z",
    ...fields,
  }) as Room;

describe("room counts", () => {
  it("say who is here now from presence and count members apart", () => {
    renderIn("en", <RoomCounts room={room({ online_count: 2 })} />);
    expect(screen.getByTestId("room-counts").textContent).toBe("2 here now · 14 members");
  });

  it("never present members as listeners when presence is unknown", () => {
    renderIn("ru", <RoomCounts room={room({ member_count: 1 })} />);
    expect(screen.getByTestId("room-counts").textContent).toBe("1 участник");
  });
});

describe("the room list", () => {
  it("shows placeholders while loading, then the empty state as a real action", async () => {
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    stubApi({
      "/genres": [],
      "/rooms/": async () => {
        await gate;
        return [];
      },
    });
    const onCreate = vi.fn();
    renderIn("en", <RoomList onCreate={onCreate} />);
    expect(screen.getByTestId("room-skeletons")).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Search rooms"), { target: { value: "Jazz corner" } });
    await act(async () => open());
    const create = await screen.findByRole("button", { name: "Create “Jazz corner”" });
    expect(screen.getByText("No rooms match.")).toBeTruthy();
    fireEvent.click(create);
    expect(onCreate).toHaveBeenCalledWith("Jazz corner");
  });

  it("labels demo rooms and keeps long names inside the card", async () => {
    const long = "A".repeat(120);
    stubApi({ "/genres": [], "/rooms/": [room({ name: long, is_demo: true, online_count: 0 })] });
    renderIn("en", <RoomList onCreate={() => undefined} />);
    const link = await screen.findByRole("link", { name: long });
    expect(link.className).toContain("break-words");
    expect(screen.getByText("demo")).toBeTruthy();
    expect(screen.getByTestId("room-counts").textContent).toBe("nobody here now · 14 members");
  });

  it("says a failed load in the user's language, not the server's text", async () => {
    stubApi({
      "/genres": [],
      "/rooms/": () => new Response(JSON.stringify({ detail: "boom: 500", code: "server_error" }), { status: 500 }),
    });
    renderIn("ru", <RoomList onCreate={() => undefined} />);
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toBe("На сервере что-то пошло не так. Попробуйте через минуту.");
  });
});

describe("editing a room", () => {
  const roomId = room().id;

  it("refreshes the room lists with what was saved", async () => {
    let saved = room();
    stubApi({
      "/genres": [],
      "/rooms/": () => [saved],
      [`PUT /rooms/${roomId}`]: async (_url: URL, request: Request) => {
        saved = { ...saved, ...((await request.json()) as Partial<Room>) };
        return saved;
      },
    });
    const client = testQueryClient();
    const onSaved = vi.fn();
    renderIn(
      "en",
      <>
        <RoomList onCreate={() => undefined} />
        <EditRoomForm room={saved} onSaved={onSaved} onClose={() => undefined} />
      </>,
      client,
    );
    expect(await screen.findByRole("link", { name: "Night Shift" })).toBeTruthy();
    fireEvent.change(screen.getByDisplayValue("Night Shift"), { target: { value: "Day Shift" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(onSaved).toHaveBeenCalled());
    expect(await screen.findByRole("link", { name: "Day Shift" })).toBeTruthy();
    expect(screen.queryByRole("link", { name: "Night Shift" })).toBeNull();
  });

  it("marks every cached room list stale when the room is deleted", async () => {
    stubApi({ "/genres": [], [`DELETE /rooms/${roomId}`]: () => new Response(null, { status: 204 }) });
    vi.spyOn(window, "confirm").mockReturnValue(true);
    const client = testQueryClient();
    client.setQueryData(["rooms", "", ""], [room()]);
    client.setQueryData(["rooms", "night", ""], [room()]);
    window.history.pushState(null, "", `/room/${roomId}`);
    renderIn("en", <EditRoomForm room={room()} onSaved={() => undefined} onClose={() => undefined} />, client);
    fireEvent.click(screen.getByRole("button", { name: "Delete room" }));
    await waitFor(() => expect(window.location.pathname).toBe("/"));
    expect(client.getQueryState(["rooms", "", ""])?.isInvalidated).toBe(true);
    expect(client.getQueryState(["rooms", "night", ""])?.isInvalidated).toBe(true);
  });
});

describe("the password prompt", () => {
  const locked = (seconds: number) =>
    new ApiError(429, "too many wrong passwords", "/rooms/x/join: 429", {
      code: "password_locked",
      retry_after_s: seconds,
    });

  it("disables Join and counts down while locked, then lets the user try again", async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const onSubmit = vi.fn();
    renderIn(
      "en",
      <PasswordPrompt roomName="Secret" error={locked(3)} busy={false} lockedUntilMs={1_000_000 + 3_000} onSubmit={onSubmit} />,
    );
    fireEvent.change(screen.getByLabelText("Room password"), { target: { value: "hunter22" } });
    const join = screen.getByTestId("join-button") as HTMLButtonElement;
    expect(join.disabled).toBe(true);
    expect(join.textContent).toContain("0:03");
    expect(screen.getByRole("alert").textContent).toBe("Too many wrong passwords. Try again in 3 s.");
    await act(async () => vi.advanceTimersByTime(1_250));
    expect(join.textContent).toContain("0:02");
    await act(async () => vi.advanceTimersByTime(2_000));
    expect(join.disabled).toBe(false);
    expect(screen.queryByRole("alert")).toBeNull();
    fireEvent.click(join);
    expect(onSubmit).toHaveBeenCalledWith("hunter22");
  });

  it("says a wrong password in Russian", () => {
    const wrong = new ApiError(403, "wrong password", "/rooms/x/join: 403 wrong password", { code: "wrong_password" });
    renderIn("ru", <PasswordPrompt roomName="Secret" error={wrong} busy={false} lockedUntilMs={null} onSubmit={() => undefined} />);
    expect(screen.getByRole("alert").textContent).toBe("Неверный пароль.");
  });
});

describe("members", () => {
  it("count who is here now apart from members, and label sample profiles", async () => {
    const people = [
      { id: "a", display_name: "alice", is_demo: false },
      { id: "d", display_name: "Mia (sample)", is_demo: true },
      { id: "b", display_name: "bob" },
    ] as never;
    renderIn("en", <Members members={people} online={{ a: true }} ownerId="a" />);
    await waitFor(() => expect(screen.getAllByTestId("member")).toHaveLength(3));
    expect(screen.getByText("1 here now · 3 members")).toBeTruthy();
    expect(screen.getAllByText("sample profile (from a public playlist)")).toHaveLength(1);
  });
});

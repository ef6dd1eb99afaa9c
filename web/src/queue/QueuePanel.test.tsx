import { cleanup, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";

import { makeI18n } from "../shared/i18n.ts";
import { addedByLine } from "./added-by.ts";

import type { QueueEntry } from "../api/client.ts";
import { renderIn } from "../test/render.tsx";
import { QueuePanel } from "./QueuePanel.tsx";

afterEach(cleanup);

const entry = (id: string, addedBy: string, user: Record<string, unknown> | null): QueueEntry =>
  ({
    association_id: id,
    status: "queued",
    added_by: addedBy,
    added_by_user: user,
    track: { title: `Track ${id}`, artists: ["Artist"], duration_ms: 180_000 },
  }) as unknown as QueueEntry;

describe("the queue", () => {
  it("shows who added each track, and sample profiles as such", () => {
    const t = makeI18n("en").t;
    expect(addedByLine(entry("1", "me", null), "me", t)).toBe("added by you");
    expect(
      addedByLine(entry("2", "u2", { id: "u2", display_name: "Mia", avatar_url: null, is_demo: true }), "me", t),
    ).toBe("added by Mia · sample profile (from a public playlist)");
    expect(addedByLine(entry("3", "u3", { id: "u3", display_name: "bob", is_demo: false }), "me", makeI18n("ru").t)).toBe(
      "добавил(а) bob",
    );
    // An older server without added_by_user: say nothing rather than guess.
    expect(addedByLine(entry("4", "u4", null), "me", t)).toBeNull();
  });

  it("says how to fill an empty queue", () => {
    renderIn("ru", <QueuePanel roomId="r" queue={[]} myUserId="me" canAdd={true} canManage={true} onChanged={() => undefined} />);
    expect(screen.getByTestId("queue-empty").textContent).toBe("Очередь пуста. Найдите трек выше и добавьте первым.");
  });
});

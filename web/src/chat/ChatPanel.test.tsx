import { cleanup, fireEvent, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";

import { ApiError } from "../shared/fetchJson.ts";
import { renderIn } from "../test/render.tsx";
import { ChatPanel } from "./ChatPanel.tsx";

afterEach(cleanup);

const props = {
  pending: [],
  hasOlder: false,
  myUserId: "me",
  myName: "me",
  onLoadOlder: async () => undefined,
};

describe("the chat", () => {
  it("invites the first message when empty, and the history can be reached by keyboard", () => {
    renderIn("en", <ChatPanel {...props} messages={[]} onSend={async () => undefined} />);
    expect(screen.getByTestId("chat-empty").textContent).toContain("No messages yet");
    const scroller = screen.getByRole("region", { name: "Chat history (scrollable)" });
    expect(scroller.tabIndex).toBe(0);
    fireEvent.click(screen.getByRole("button", { name: "Say something…" }));
    expect(document.activeElement).toBe(screen.getByLabelText("Message"));
  });

  it("says a refused message in the user's language, never the server's status line", async () => {
    const limited = new ApiError(429, "too many messages; try again in 7 s", "/chat/x: 429 too many messages", {
      code: "rate_limited",
      retry_after_s: 7,
    });
    renderIn(
      "ru",
      <ChatPanel
        {...props}
        messages={[]}
        onSend={async () => {
          throw limited;
        }}
      />,
    );
    fireEvent.change(screen.getByLabelText("Сообщение"), { target: { value: "hi" } });
    fireEvent.click(screen.getByRole("button", { name: "Отправить" }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toBe("Слишком быстро. Попробуйте через 7 с.");
  });
});

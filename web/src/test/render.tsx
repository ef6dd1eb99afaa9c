/** Rendering helpers for component tests: a language and a fresh query client. */
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactNode } from "react";
import { vi } from "vitest";

import { I18nContext, type Language, makeI18n } from "../shared/i18n.ts";

export function testQueryClient() {
  return new QueryClient({ defaultOptions: { queries: { retry: false } } });
}

/** Render `ui` in `language`; pass `client` to look at the query cache afterwards. */
export function renderIn(language: Language, ui: ReactNode, client: QueryClient = testQueryClient()) {
  return render(
    <QueryClientProvider client={client}>
      <I18nContext.Provider value={makeI18n(language)}>{ui}</I18nContext.Provider>
    </QueryClientProvider>,
  );
}

type Route = (url: URL, request: Request) => unknown;

/** Answer the app's API calls from `routes` (path → JSON body or a Response); others 404. */
export function stubApi(routes: Record<string, Route | unknown>) {
  const fetchStub = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(new URL(String(input), "http://localhost"), init);
    const url = new URL(request.url);
    const route = routes[`${request.method} ${url.pathname}`] ?? routes[url.pathname];
    if (route === undefined) {
      return new Response(JSON.stringify({ detail: "Not Found", code: "not_found" }), { status: 404 });
    }
    const body = typeof route === "function" ? await (route as Route)(url, request) : route;
    return body instanceof Response ? body : new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
  });
  vi.stubGlobal("fetch", fetchStub);
  return fetchStub;
}

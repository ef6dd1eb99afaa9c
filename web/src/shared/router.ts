/**
 * A small History API router: the app has five screens, which does not need a library.
 * Links are real <a href> elements (middle-click and keyboard work); plain clicks navigate
 * without a reload.
 */
import { useSyncExternalStore } from "react";

const NAVIGATE_EVENT = "tunewave:navigate";

function subscribe(listener: () => void) {
  window.addEventListener("popstate", listener);
  window.addEventListener(NAVIGATE_EVENT, listener);
  return () => {
    window.removeEventListener("popstate", listener);
    window.removeEventListener(NAVIGATE_EVENT, listener);
  };
}

function snapshot() {
  return window.location.pathname + window.location.search;
}

export function navigate(to: string, { replace = false } = {}) {
  if (replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
}

/** The current path with its query string. */
export function useLocation(): string {
  return useSyncExternalStore(subscribe, snapshot, () => "/");
}

export type Route =
  | { name: "discover" }
  | { name: "signin"; next: string }
  | { name: "signed-in" }
  | { name: "room"; roomId: string }
  | { name: "profile" }
  | { name: "genre"; slug: string }
  | { name: "not-found" };

/** A genre's page. Singular, like /room/: /genres/{slug} is the API's. Slugs may hold
 * spaces and "&" ("drum & bass"), so the slug is encoded. */
export function genrePath(slug: string): string {
  return `/genre/${encodeURIComponent(slug)}`;
}

export function matchRoute(location: string): Route {
  const url = new URL(location, "http://app.invalid");
  const path = url.pathname.replace(/\/+$/, "") || "/";
  if (path === "/") return { name: "discover" };
  if (path === "/signin") {
    const next = url.searchParams.get("next");
    // Only paths of this app: never an absolute URL someone planted in the link.
    return { name: "signin", next: next && next.startsWith("/") && !next.startsWith("//") ? next : "/" };
  }
  if (path === "/signed-in") return { name: "signed-in" };
  if (path === "/profile") return { name: "profile" };
  // Singular: /rooms/{id} is the API's, and a reload there must reach the app, not JSON.
  const room = /^\/room\/([^/]+)$/.exec(path);
  if (room?.[1]) return { name: "room", roomId: decodeURIComponent(room[1]) };
  const genre = /^\/genre\/([^/]+)$/.exec(path);
  if (genre?.[1]) {
    try {
      return { name: "genre", slug: decodeURIComponent(genre[1]) };
    } catch {
      return { name: "not-found" }; // a malformed escape ("%E0%A4%A")
    }
  }
  return { name: "not-found" };
}


/** Composes the screens: providers, the header, the route, and the sign-in gate. */
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { lazy, Suspense, useEffect, useRef, useSyncExternalStore } from "react";

import { SignedInPage } from "../auth/SignedInPage.tsx";
import { SignInPage } from "../auth/SignInPage.tsx";
import { useI18n } from "../shared/i18n.ts";
import { I18nProvider } from "../shared/I18nProvider.tsx";
import { matchRoute, navigate, useLocation } from "../shared/router.ts";
import { getSession, subscribeSession } from "../shared/session.ts";
import { Spinner } from "../shared/ui.tsx";
import { Header } from "./Header.tsx";
import { DiscoverScreen } from "./DiscoverScreen.tsx";

// The room, profile and genre screens load on demand: the first page stays small.
const RoomScreen = lazy(() => import("./RoomScreen.tsx"));
const ProfileScreen = lazy(() => import("./ProfileScreen.tsx"));
const GenreScreen = lazy(() => import("./GenreScreen.tsx"));

const queryClient = new QueryClient({
  defaultOptions: {
    queries: { retry: 1, staleTime: 10_000, refetchOnWindowFocus: false },
  },
});

function useSignedIn(): boolean {
  return useSyncExternalStore(
    subscribeSession,
    () => getSession() !== null,
    () => false,
  );
}

function Screens() {
  const { t } = useI18n();
  const location = useLocation();
  const route = matchRoute(location);
  const signedIn = useSignedIn();
  const wasSignedIn = useRef(signedIn);
  const needsSession = route.name !== "signin" && route.name !== "signed-in";

  useEffect(() => {
    if (needsSession && !signedIn) {
      const expired = wasSignedIn.current;
      const next = encodeURIComponent(location);
      navigate(`/signin?next=${next}${expired ? "&expired=1" : ""}`, { replace: true });
    }
    wasSignedIn.current = signedIn;
  }, [needsSession, signedIn, location]);

  useEffect(() => {
    if (route.name === "signin" && signedIn) navigate(route.next, { replace: true });
  }, [route, signedIn]);

  let screen;
  if (route.name === "signin") {
    const expired = new URLSearchParams(location.split("?")[1] ?? "").has("expired");
    screen = <SignInPage next={route.next} expired={expired} />;
  } else if (route.name === "signed-in") {
    screen = <SignedInPage />;
  } else if (!signedIn) {
    screen = <Spinner label={t("common.loading")} />;
  } else if (route.name === "discover") {
    screen = <DiscoverScreen />;
  } else if (route.name === "room") {
    screen = <RoomScreen key={route.roomId} roomId={route.roomId} />;
  } else if (route.name === "profile") {
    screen = <ProfileScreen />;
  } else if (route.name === "genre") {
    screen = <GenreScreen key={route.slug} slug={route.slug} />;
  } else {
    screen = <p className="py-10 text-center">{t("common.notFound")}</p>;
  }

  return (
    <div className="min-h-dvh bg-zinc-50 text-zinc-900 dark:bg-zinc-950 dark:text-zinc-100">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:p-2 dark:focus:bg-zinc-900"
      >
        {t("nav.skip")}
      </a>
      <Header signedIn={signedIn} />
      <main id="main" className="mx-auto max-w-6xl px-3 pb-16 pt-4 sm:px-6">
        <Suspense fallback={<Spinner label={t("common.loading")} />}>{screen}</Suspense>
      </main>
    </div>
  );
}

export default function App() {
  return (
    <QueryClientProvider client={queryClient}>
      <I18nProvider>
        <Screens />
      </I18nProvider>
    </QueryClientProvider>
  );
}

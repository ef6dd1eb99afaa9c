import logoUrl from "./assets/logo.svg";
import { StatusPanel } from "./status/StatusPanel.tsx";

export default function App() {
  return (
    <div className="min-h-dvh bg-gradient-to-b from-violet-50 to-white text-zinc-900 dark:from-zinc-950 dark:to-zinc-900 dark:text-zinc-100">
      <main className="mx-auto flex max-w-2xl flex-col gap-8 px-6 py-16 sm:py-24">
        <header className="space-y-3">
          <div className="flex items-center gap-3">
            <img src={logoUrl} alt="" className="size-10" />
            <h1 className="text-4xl font-bold tracking-tight">TuneWave</h1>
          </div>
          <p className="text-lg text-zinc-600 dark:text-zinc-300">
            Listen together: hear the same track at the same moment, talk about it, and find
            people who share your taste.
          </p>
        </header>

        <StatusPanel />

        <p className="text-sm leading-relaxed text-zinc-500 dark:text-zinc-400">
          This is the first screen of the TuneWave web app. It checks that the API answers and
          shows how you will be able to sign in. Rooms, the shared queue, chat and
          recommendations are not in the web app yet; the API's own reference is at{" "}
          <a
            href="/docs"
            className="font-medium text-violet-700 underline-offset-2 hover:underline dark:text-violet-400"
          >
            /docs
          </a>
          .
        </p>
      </main>
    </div>
  );
}

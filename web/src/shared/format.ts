/** Numbers, dates and times in the page's language, through Intl (never the browser's default). */

export function formatDuration(ms: number): string {
  const totalS = Math.max(0, Math.floor(ms / 1000));
  const minutes = Math.floor(totalS / 60);
  return `${minutes}:${String(totalS % 60).padStart(2, "0")}`;
}

const cache = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();

function numberFormat(language: string): Intl.NumberFormat {
  const key = `n:${language}`;
  let format = cache.get(key) as Intl.NumberFormat | undefined;
  if (!format) {
    format = new Intl.NumberFormat(language);
    cache.set(key, format);
  }
  return format;
}

function dateFormat(language: string, kind: "time" | "dateTime"): Intl.DateTimeFormat {
  const key = `${kind}:${language}`;
  let format = cache.get(key) as Intl.DateTimeFormat | undefined;
  if (!format) {
    format = new Intl.DateTimeFormat(
      language,
      kind === "time"
        ? { hour: "2-digit", minute: "2-digit" }
        : { dateStyle: "medium", timeStyle: "short" },
    );
    cache.set(key, format);
  }
  return format;
}

export function formatNumber(language: string, value: number): string {
  return numberFormat(language).format(value);
}

function parse(iso: string): Date | null {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** "15:39" / "3:39 PM": the hour and minute of `iso` in `language`. */
export function formatTime(language: string, iso: string): string {
  const date = parse(iso);
  return date ? dateFormat(language, "time").format(date) : "";
}

/** "1 дек. 2026 г., 03:39" / "Dec 1, 2026, 3:39 AM". */
export function formatDateTime(language: string, iso: string): string {
  const date = parse(iso);
  return date ? dateFormat(language, "dateTime").format(date) : "";
}

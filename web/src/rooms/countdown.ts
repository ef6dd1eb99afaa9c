import { useEffect, useState } from "react";

/** Whole seconds left until `untilMs` (0 when past or null), re-rendering as it ticks. */
export function useCountdown(untilMs: number | null): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!untilMs) return;
    const timer = setInterval(() => {
      const at = Date.now();
      setNow(at);
      if (at >= untilMs) clearInterval(timer);
    }, 250);
    return () => clearInterval(timer);
  }, [untilMs]);
  return untilMs ? Math.max(0, Math.ceil((untilMs - now) / 1000)) : 0;
}

import { useEffect, useState } from "react";

/** Whole seconds left until `untilMs` (0 when past or null), re-rendering as it ticks. */
export function useCountdown(untilMs: number | null): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!untilMs) return;
    const tick = () => {
      const at = Date.now();
      setNow(at);
      if (at >= untilMs) clearInterval(timer);
    };
    const first = setTimeout(tick, 0);
    const timer = setInterval(tick, 250);
    return () => {
      clearTimeout(first);
      clearInterval(timer);
    };
  }, [untilMs]);
  return untilMs ? Math.max(0, Math.ceil((untilMs - now) / 1000)) : 0;
}

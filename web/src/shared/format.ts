export function formatDuration(ms: number): string {
  const totalS = Math.max(0, Math.floor(ms / 1000));
  const minutes = Math.floor(totalS / 60);
  return `${minutes}:${String(totalS % 60).padStart(2, "0")}`;
}

import type { QueueEntry } from "../api/client.ts";
import { addedByUser } from "../shared/contract.ts";
import type { Translate } from "../shared/i18n.ts";

/** "added by you" / "added by Mia (sample profile …)" / null when the server does not say. */
export function addedByLine(entry: QueueEntry, myUserId: string | null, t: Translate): string | null {
  if (myUserId && entry.added_by === myUserId) return t("queue.addedByYou");
  const adder = addedByUser(entry);
  if (!adder) return null;
  const line = t("queue.addedBy", { name: adder.displayName });
  return adder.isDemo ? `${line} · ${t("profile.sample")}` : line;
}

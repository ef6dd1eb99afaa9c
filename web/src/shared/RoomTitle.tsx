import { Link } from "./Link.tsx";
import { DemoBadge } from "./ui.tsx";

/** A room card's first line: its name linking to the room, and the demo badge. */
export function RoomTitle({ room }: { room: { id: string; name: string; is_demo: boolean } }) {
  return (
    <div className="flex min-w-0 items-start justify-between gap-2">
      <Link to={`/room/${room.id}`} className="min-w-0 break-words font-medium [overflow-wrap:anywhere] hover:underline">
        {room.name}
      </Link>
      {room.is_demo ? <DemoBadge /> : null}
    </div>
  );
}

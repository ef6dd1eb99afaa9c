"""chat: store a message in one statement (seq allocated under a statement-long room lock)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 06:50:00.000000

"""
from collections.abc import Sequence

from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# One call is one statement: run in autocommit, the room's row lock it takes is released as
# soon as the call returns, so posts in a room are serialised for the time of the function
# only (not across the caller's round trips). Every query inside a plpgsql function takes a
# fresh snapshot (READ COMMITTED), so after the lock the function sees every earlier
# message: a resend of a stored client_id returns the stored row without consuming a seq,
# and created_at is strictly increasing with seq. The allocation and the insert commit
# together, so seq numbers never have holes.
CHAT_POST_MESSAGE = """
CREATE OR REPLACE FUNCTION chat_post_message(
    p_id uuid, p_room_id uuid, p_user_id uuid, p_text text, p_client_id varchar
) RETURNS TABLE (id uuid, seq bigint, created_at timestamptz, created boolean)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_seq bigint;
    v_at timestamptz;
    v_id uuid;
BEGIN
    PERFORM 1 FROM rooms WHERE rooms.id = p_room_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF p_client_id IS NOT NULL THEN
        SELECT m.id, m.seq, m.created_at INTO v_id, v_seq, v_at FROM messages m
        WHERE m.room_id = p_room_id AND m.user_id = p_user_id AND m.client_id = p_client_id;
        IF FOUND THEN
            RETURN QUERY SELECT v_id, v_seq, v_at, false;
            RETURN;
        END IF;
    END IF;
    SELECT greatest(clock_timestamp(), max(m.created_at) + interval '1 microsecond')
        INTO v_at FROM messages m WHERE m.room_id = p_room_id;
    UPDATE rooms SET last_message_seq = rooms.last_message_seq + 1,
                     last_activity_at = greatest(rooms.last_activity_at, v_at)
        WHERE rooms.id = p_room_id RETURNING rooms.last_message_seq INTO v_seq;
    INSERT INTO messages (id, room_id, user_id, seq, text, client_id, created_at)
        VALUES (p_id, p_room_id, p_user_id, v_seq, p_text, p_client_id, v_at);
    RETURN QUERY SELECT p_id, v_seq, v_at, true;
END;
$$
"""


def upgrade() -> None:
    op.execute(CHAT_POST_MESSAGE)


def downgrade() -> None:
    op.execute(
        'DROP FUNCTION IF EXISTS chat_post_message(uuid, uuid, uuid, text, varchar)'
    )

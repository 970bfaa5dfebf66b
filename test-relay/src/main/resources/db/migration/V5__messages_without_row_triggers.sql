-- Messages without per-row foreign-key triggers (docs/benchmarks.md, relay, fourth round). Each
-- message row fired two RI triggers: a SELECT ... FOR KEY SHARE of its room and of its sender's
-- device, through SPI, per row: about a fifth of the send batch's statement time (measured with
-- pgbench on PostgreSQL 17: a batch of 36 messages and 324 deliveries 4.9-5.3 ms with them, 4.0-4.2
-- ms without them and with one FOR KEY SHARE per distinct room instead). What they guarded is kept:
--
-- * The room exists when its message is inserted, and cannot be deleted before the insert commits:
--   every insert of a room message first locks the room row FOR KEY SHARE in its transaction, once
--   per distinct room (MessageService's batch reads its rooms with FOR KEY SHARE, Store.insert
--   locks the room of each message it writes); that is the lock the RI trigger took. A room deleted
--   before that read is not found, and the send is refused as before.
-- * ON DELETE CASCADE from rooms: the statement trigger below deletes a deleted room's messages in
--   the same statement (and V2's trigger on messages their deliveries).
-- * The sender exists: devices are never deleted (REVOKED is a state), and a sender is the
--   authenticated device the relay read from devices in the same request.
-- The conversation key (direct messages, rare) keeps its foreign key. RLS is unchanged: ENABLED and
-- FORCED on messages; the trigger's DELETE runs as the deleting role, under its tenant.
ALTER TABLE messages DROP CONSTRAINT messages_tenant_id_room_id_fkey;
ALTER TABLE messages DROP CONSTRAINT messages_tenant_id_sender_device_id_fkey;

CREATE FUNCTION messages_of_deleted_rooms() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    DELETE FROM messages m USING gone g WHERE m.room_id = g.id AND m.tenant_id = g.tenant_id;
    RETURN NULL;
END $$;

CREATE TRIGGER rooms_delete_messages AFTER DELETE ON rooms
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION messages_of_deleted_rooms();

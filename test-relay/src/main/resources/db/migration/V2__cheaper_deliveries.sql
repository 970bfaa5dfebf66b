-- Cheaper deliveries (docs/benchmarks.md, relay, "Quiet machine"): every message fans out to one
-- deliveries row per recipient, inserted with the message and updated once when acknowledged, so
-- per-row costs there dominate the relay's database work. RLS stays ENABLED and FORCED on
-- deliveries and messages (V1's tenant_isolation policies are untouched).

-- 1. No foreign key from deliveries to messages. It cost a trigger per delivery row (a key-share
--    lookup of the message) and guarded nothing the code does not already guarantee: deliveries
--    rows are written in exactly two places (Store.insert and MessageService.insertBatch), each in
--    the same transaction as, and right after, the insert of their message, with the message id
--    and tenant that insert RETURNED; no code updates message_id or tenant_id of a delivery. The FK's
--    ON DELETE CASCADE is kept by the statement trigger below: messages are only ever deleted by
--    cascade (a room deleted when its last member leaves, a conversation with its room), and their
--    deliveries go in the same statement.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_tenant_id_message_id_fkey;

CREATE FUNCTION deliveries_of_deleted_messages() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    DELETE FROM deliveries d USING gone g WHERE d.message_id = g.id AND d.tenant_id = g.tenant_id;
    RETURN NULL;
END $$;

CREATE TRIGGER messages_delete_deliveries AFTER DELETE ON messages
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION deliveries_of_deleted_messages();

-- (tenant_id, id) on messages existed only as the target of that foreign key: id alone is the key.
ALTER TABLE messages DROP CONSTRAINT messages_tenant_id_id_key;

-- 2. Acknowledgement as a HOT update: status was the predicate of deliveries_pending, so every ack
--    wrote a new index entry. Without that index no indexed column changes (the primary key
--    (recipient_device_id, message_id) serves the one read path, Store.pending: a range scan of the
--    device's rows in id order, status filtered on the heap), and fillfactor 50 leaves each page room
--    for the new version of every row on it, so the new version stays on its page.
--    Trade-off: a device's acknowledged rows stay in that range, so its backlog scan also reads
--    them; bounded today only by how many deliveries the device ever had (no retention yet).
DROP INDEX deliveries_pending;
ALTER TABLE deliveries SET (fillfactor = 50);

-- An acknowledgement deletes its delivery (docs/benchmarks.md, relay, seventh round). Until V5 it
-- was a HOT update (status 'pending' -> 'delivered', delivered_at set) that wrote a new version of
-- the row on its page, and a retention sweep deleted the acknowledged rows an hour later: insert,
-- update and delete per delivery. Nothing read an acknowledged row but that sweep, so now the
-- acknowledgement is the delete (a smaller WAL record than the update, and no new row version):
-- a deliveries row exists exactly while its delivery is pending. Exactly once after ACK holds as
-- before: a second acknowledgement of the same delivery finds no row and counts nothing.
--
-- Acknowledged rows left by V2..V5 are deleted here. The owner does this with row-level security
-- lifted for the length of this migration's transaction only (FORCE is set again below; the relay's
-- role never had, and does not get, a way around it); the migration runs as the schema's owner,
-- which need not be a superuser, and no tenant is set while it runs.
ALTER TABLE deliveries NO FORCE ROW LEVEL SECURITY;
DELETE FROM deliveries WHERE status <> 'pending';
ALTER TABLE deliveries FORCE ROW LEVEL SECURITY;

-- status and delivered_at said nothing any more (every row is pending). Dropping them makes each row
-- narrower: 40 bytes of data (tenant_id, message_id, recipient_device_id) after the row header.
ALTER TABLE deliveries DROP COLUMN status, DROP COLUMN delivered_at;

-- V2 left half of each page free for the new versions of acknowledged rows; deletes write none.
-- (Applies to pages written from now on.) Deleted rows are reclaimed by autovacuum, and by page
-- pruning when a full page is read.
ALTER TABLE deliveries SET (fillfactor = 100);

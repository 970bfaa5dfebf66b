-- A version per room's recipient list, so a relay instance can keep the list in memory and check it
-- with one indexed read of the room row per send batch instead of aggregating every member (with
-- its device's webhook URL) again (docs/benchmarks.md, relay). Whatever changes who a room's message
-- goes to, or which webhook is told, bumps the version in the same transaction: any insert, update or
-- delete of a room_members row, and a change of a member device's webhook_url. Every instance reads
-- the version from PostgreSQL, so a change made through one instance is seen by all.
ALTER TABLE rooms ADD COLUMN members_version bigint NOT NULL DEFAULT 0;

CREATE FUNCTION room_members_changed() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE rooms SET members_version = members_version + 1 WHERE id = OLD.room_id;
    ELSE
        UPDATE rooms SET members_version = members_version + 1 WHERE id = NEW.room_id;
        IF TG_OP = 'UPDATE' AND OLD.room_id IS DISTINCT FROM NEW.room_id THEN
            UPDATE rooms SET members_version = members_version + 1 WHERE id = OLD.room_id;
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER room_members_version AFTER INSERT OR UPDATE OR DELETE ON room_members
    FOR EACH ROW EXECUTE FUNCTION room_members_changed();

CREATE FUNCTION device_webhook_changed() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE rooms SET members_version = members_version + 1
     WHERE id IN (SELECT room_id FROM room_members WHERE device_id = NEW.id);
    RETURN NULL;
END $$;

CREATE TRIGGER device_webhook_version AFTER UPDATE OF webhook_url ON devices
    FOR EACH ROW WHEN (OLD.webhook_url IS DISTINCT FROM NEW.webhook_url)
    EXECUTE FUNCTION device_webhook_changed();

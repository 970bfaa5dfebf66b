-- The relay's schema. Run by the administrative (owner) role through Flyway; the relay itself
-- connects as a separate LOGIN role that owns nothing here and cannot bypass RLS (granted in code,
-- chat.agentvault.relay.db.Database#grantAppRole, because its name is configurable).
--
-- Rules (docs/protocol.md, "Security in the database"):
--  * every table but tenants has tenant_id, RLS enabled and FORCED, and the policy
--    tenant_id = current_setting('app.current_tenant_id')::uuid (unset => error, i.e. fail closed);
--  * references between tenant tables are composite (tenant_id, id), so a row can never point at
--    another tenant's row even though foreign-key checks themselves ignore RLS;
--  * no column holds message plaintext of an encrypted room: payload is the client's ciphertext.

CREATE TABLE tenants (
    id          uuid        PRIMARY KEY,
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE devices (
    tenant_id        uuid        NOT NULL REFERENCES tenants (id),
    id               uuid        NOT NULL,
    role             text        NOT NULL CHECK (role IN ('owner', 'agent')),
    name             text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    public_identity  bytea       NOT NULL,            -- PublicIdentity.encode(): Ed25519, X25519, binding
    fingerprint      text        NOT NULL,
    state            text        NOT NULL CHECK (state IN ('PENDING', 'APPROVED', 'ACTIVE', 'SUSPENDED', 'REVOKED')),
    trust_tier       integer     NOT NULL DEFAULT 0 CHECK (trust_tier BETWEEN 0 AND 100),
    hub_address      text,
    webhook_url      text,
    invite_id        uuid        NOT NULL,
    approved_by      uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id),
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, fingerprint),
    UNIQUE (tenant_id, hub_address)
);

CREATE TABLE invites (
    tenant_id    uuid        NOT NULL REFERENCES tenants (id),
    id           uuid        NOT NULL PRIMARY KEY,
    token_hash   bytea       NOT NULL UNIQUE CHECK (length(token_hash) = 32),   -- BLAKE2b-256 of the token
    role         text        NOT NULL CHECK (role IN ('owner', 'agent')),
    auto_approve boolean     NOT NULL DEFAULT false,                            -- only a tenant's bootstrap invite
    created_by   uuid,
    expires_at   timestamptz NOT NULL,
    consumed_at  timestamptz,
    consumed_by  uuid,
    revoked_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id)
);

CREATE TABLE enrollment_challenges (
    tenant_id   uuid        NOT NULL,
    id          uuid        NOT NULL PRIMARY KEY,
    invite_id   uuid        NOT NULL,
    challenge   bytea       NOT NULL CHECK (length(challenge) = 32),
    expires_at  timestamptz NOT NULL,
    FOREIGN KEY (tenant_id, invite_id) REFERENCES invites (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE auth_challenges (
    tenant_id   uuid        NOT NULL,
    id          uuid        NOT NULL PRIMARY KEY,
    device_id   uuid        NOT NULL,
    challenge   bytea       NOT NULL CHECK (length(challenge) = 32),
    expires_at  timestamptz NOT NULL,
    FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id) ON DELETE CASCADE
);

-- X3DH prekey bundles as the device signed them (chat.agentvault.ratchet.PreKeyBundle bytes):
-- one_time bundles are handed out once each; the device's single fallback bundle (without a
-- one-time prekey) is handed out when they run out and is replaced, never consumed.
CREATE TABLE prekey_bundles (
    tenant_id   uuid        NOT NULL,
    id          bigserial   PRIMARY KEY,
    device_id   uuid        NOT NULL,
    one_time    boolean     NOT NULL,
    bundle      bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX prekey_bundles_device ON prekey_bundles (device_id, one_time, id);

-- MLS KeyPackages (RFC 9420 §10): consumed once each, except a last-resort one (§16.8).
CREATE TABLE key_packages (
    tenant_id    uuid        NOT NULL,
    id           bigserial   PRIMARY KEY,
    device_id    uuid        NOT NULL,
    last_resort  boolean     NOT NULL,
    key_package  bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX key_packages_device ON key_packages (device_id, last_resort, id);

CREATE TABLE rooms (
    tenant_id        uuid        NOT NULL,
    id               uuid        NOT NULL PRIMARY KEY,
    name             text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    mode             text        NOT NULL CHECK (mode IN ('encrypted', 'plaintext')),
    min_trust_tier   integer     NOT NULL DEFAULT 0,
    created_by       uuid        NOT NULL,
    epoch            bigint      NOT NULL DEFAULT 0,       -- MLS epoch the delivery service has ordered up to
    group_info       bytea,                                -- latest GroupInfo, for external joins
    group_info_epoch bigint,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, created_by) REFERENCES devices (tenant_id, id)
);

CREATE TABLE room_members (
    tenant_id   uuid        NOT NULL,
    room_id     uuid        NOT NULL,
    device_id   uuid        NOT NULL,
    role        text        NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    status      text        NOT NULL CHECK (status IN ('invited', 'joined')),
    invited_by  uuid,
    joined_at   timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (room_id, device_id),
    FOREIGN KEY (tenant_id, room_id) REFERENCES rooms (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id)
);
CREATE INDEX room_members_device ON room_members (device_id);

-- A conversation is either a 1:1 pair of devices ('direct') or the MLS group session of a room
-- ('group'; a room lists its conversations, more than one after a ReInit).
CREATE TABLE conversations (
    tenant_id     uuid        NOT NULL,
    id            uuid        NOT NULL PRIMARY KEY,
    kind          text        NOT NULL CHECK (kind IN ('direct', 'group')),
    device_a      uuid,
    device_b      uuid,
    room_id       uuid,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, device_a) REFERENCES devices (tenant_id, id),
    FOREIGN KEY (tenant_id, device_b) REFERENCES devices (tenant_id, id),
    FOREIGN KEY (tenant_id, room_id) REFERENCES rooms (tenant_id, id) ON DELETE CASCADE,
    CHECK ((kind = 'direct' AND device_a IS NOT NULL AND device_b IS NOT NULL AND device_a < device_b AND room_id IS NULL)
        OR (kind = 'group' AND room_id IS NOT NULL AND device_a IS NULL AND device_b IS NULL))
);
CREATE UNIQUE INDEX conversations_pair ON conversations (tenant_id, device_a, device_b) WHERE kind = 'direct';

-- Messages: routing fields in the clear, the content as the client sent it (ciphertext in an
-- encrypted room or conversation). id orders delivery (a sequence, so chronological per relay).
CREATE TABLE messages (
    tenant_id          uuid        NOT NULL,
    id                 bigserial   PRIMARY KEY,
    sender_device_id   uuid        NOT NULL,
    room_id            uuid,
    conversation_id    uuid,
    message_type       text        NOT NULL,
    content_type       text        NOT NULL,
    client_message_id  text        NOT NULL,
    epoch              bigint,
    payload            bytea       NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, sender_device_id, client_message_id),
    FOREIGN KEY (tenant_id, sender_device_id) REFERENCES devices (tenant_id, id),
    FOREIGN KEY (tenant_id, room_id) REFERENCES rooms (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE deliveries (
    tenant_id            uuid        NOT NULL,
    message_id           bigint      NOT NULL,
    recipient_device_id  uuid        NOT NULL,
    status               text        NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    delivered_at         timestamptz,
    PRIMARY KEY (recipient_device_id, message_id),
    FOREIGN KEY (tenant_id, message_id) REFERENCES messages (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX deliveries_pending ON deliveries (recipient_device_id, message_id) WHERE status = 'pending';

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['devices', 'invites', 'enrollment_challenges', 'auth_challenges',
                             'prekey_bundles', 'key_packages', 'rooms', 'room_members',
                             'conversations', 'messages', 'deliveries']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_setting(''app.current_tenant_id'')::uuid) '
                       'WITH CHECK (tenant_id = current_setting(''app.current_tenant_id'')::uuid)', t);
    END LOOP;
END $$;

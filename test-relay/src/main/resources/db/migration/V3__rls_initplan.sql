-- Row-level security evaluated once per statement, not once per row (docs/benchmarks.md, relay).
-- V1's policies compare tenant_id with current_setting('app.current_tenant_id')::uuid. That
-- expression is STABLE, not constant, so PostgreSQL evaluated it for every row a scan passed and
-- every row an INSERT checked: a GUC lookup and a text-to-uuid parse per row (uuid_in and
-- hash_search_with_hash_value were among the busiest functions of the relay's backends under load,
-- and a scan of room_members or deliveries cost a parse per row of the whole tenant's table).
-- Written as a scalar subquery, the same expression becomes an InitPlan: computed once per
-- statement, then compared as a constant. The meaning is unchanged: the policy still applies to
-- every table but tenants, RLS stays ENABLED and FORCED, and an unset tenant still fails closed
-- (current_setting without missing_ok raises; an empty setting fails the uuid cast).
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['devices', 'invites', 'enrollment_challenges', 'auth_challenges',
                             'prekey_bundles', 'key_packages', 'rooms', 'room_members',
                             'conversations', 'messages', 'deliveries']
    LOOP
        EXECUTE format('ALTER POLICY tenant_isolation ON %I '
                       'USING (tenant_id = (SELECT current_setting(''app.current_tenant_id'')::uuid)) '
                       'WITH CHECK (tenant_id = (SELECT current_setting(''app.current_tenant_id'')::uuid))', t);
    END LOOP;
END $$;

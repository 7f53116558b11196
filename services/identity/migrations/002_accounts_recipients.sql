-- identity 002: staff scope, refresh tokens, care recipients with consent, and the append-only audit trail.
ALTER TABLE users ADD COLUMN communities bigint[] NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN password_changed_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE users ADD CONSTRAINT users_org_for_provider_and_worker
    CHECK ((role IN ('provider', 'worker')) = (org_id IS NOT NULL));
ALTER TABLE users ADD CONSTRAINT users_communities_for_staff
    CHECK (role = 'staff' OR cardinality(communities) = 0);

-- Opaque refresh tokens, stored as SHA-256 hashes. A family is one login's chain of rotations.
CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY,
    family_id   uuid NOT NULL,
    user_id     uuid NOT NULL REFERENCES users (id),
    token_hash  bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

-- Care recipients. Sensitive data (health notes, allergies, guardians, and for a child everything but the
-- community) lives only in `sealed`, encrypted by the service; it is NULL without the storage consent.
CREATE TABLE recipients (
    id                  uuid PRIMARY KEY,
    family_id           uuid NOT NULL REFERENCES users (id),
    kind                text NOT NULL CHECK (kind IN ('elder', 'child')),
    community_id        bigint NOT NULL REFERENCES regions (id),
    name                text CHECK (length(name) BETWEEN 1 AND 50),
    birth_date          date,
    gender              text CHECK (gender IN ('female', 'male')),
    ability_level       smallint CHECK (ability_level BETWEEN 0 AND 4),
    priority_categories text[] NOT NULL DEFAULT '{}',
    diet                text[] NOT NULL DEFAULT '{}',
    languages           text[] NOT NULL DEFAULT '{}',
    gender_preference   text CHECK (gender_preference IN ('female', 'male', 'none')),
    address             text CHECK (length(address) <= 200),
    lat                 double precision CHECK (lat BETWEEN 18.0 AND 53.6),
    lon                 double precision CHECK (lon BETWEEN 73.5 AND 135.1),
    emergency_contacts  jsonb NOT NULL DEFAULT '[]',
    sealed              bytea,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    deleted_at          timestamptz,
    CHECK (kind = 'elder' OR (name IS NULL AND birth_date IS NULL AND ability_level IS NULL)),
    CHECK (kind = 'child' OR (name IS NOT NULL AND birth_date IS NOT NULL AND ability_level IS NOT NULL))
);
CREATE INDEX recipients_family ON recipients (family_id) WHERE deleted_at IS NULL;
CREATE INDEX recipients_community ON recipients (community_id) WHERE deleted_at IS NULL;

-- A family's consents, per recipient and purpose, with the version of the text agreed to.
CREATE TABLE consents (
    id            uuid PRIMARY KEY,
    recipient_id  uuid NOT NULL REFERENCES recipients (id),
    purpose       text NOT NULL CHECK (purpose IN ('sensitive_storage', 'share_health_with_provider')),
    text_version  text NOT NULL CHECK (length(text_version) BETWEEN 1 AND 20),
    granted_by    uuid NOT NULL REFERENCES users (id),
    granted_at    timestamptz NOT NULL DEFAULT now(),
    withdrawn_at  timestamptz
);
CREATE UNIQUE INDEX consents_one_active ON consents (recipient_id, purpose) WHERE withdrawn_at IS NULL;

-- Who did what to which object, when, why. Rows are never changed or removed.
CREATE TABLE audit_log (
    id           bigserial PRIMARY KEY,
    actor_id     text NOT NULL,
    actor_role   text NOT NULL,
    action       text NOT NULL,
    object_type  text NOT NULL,
    object_id    text NOT NULL,
    purpose      text NOT NULL DEFAULT '',
    request_id   text NOT NULL DEFAULT '',
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log rows cannot be changed or removed' USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;

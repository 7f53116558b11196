-- providers 001: workers, their credentials, and suspensions. Presence (online, location) lives in Redis.
CREATE TABLE workers (
    id              uuid PRIMARY KEY,          -- the worker's identity user id
    org_id          uuid NOT NULL,
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
    gender          text NOT NULL CHECK (gender IN ('female', 'male')),
    languages       text[] NOT NULL DEFAULT '{}',
    kinds           text[] NOT NULL CHECK (cardinality(kinds) BETWEEN 1 AND 4),
    home_lat        double precision NOT NULL CHECK (home_lat BETWEEN 18.0 AND 53.6),
    home_lon        double precision NOT NULL CHECK (home_lon BETWEEN 73.5 AND 135.1),
    radius_km       double precision NOT NULL CHECK (radius_km > 0 AND radius_km <= 30),
    suspended_until timestamptz,
    suspend_reason  text NOT NULL DEFAULT '',
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workers_org ON workers (org_id);

CREATE TABLE credentials (
    worker_id   uuid NOT NULL REFERENCES workers (id) ON DELETE CASCADE,
    type        text NOT NULL CHECK (type IN ('nurse_licence', 'physician_licence', 'bathing_certificate',
                                              'health_certificate', 'childcare_certificate')),
    number      text NOT NULL CHECK (length(number) BETWEEN 1 AND 40),
    expires_on  date NOT NULL,
    PRIMARY KEY (worker_id, type)
);

CREATE TABLE worker_history (
    id         bigserial PRIMARY KEY,
    worker_id  uuid NOT NULL REFERENCES workers (id) ON DELETE CASCADE,
    action     text NOT NULL,
    actor_id   text NOT NULL,
    actor_role text NOT NULL,
    reason     text NOT NULL DEFAULT '',
    at         timestamptz NOT NULL DEFAULT now()
);

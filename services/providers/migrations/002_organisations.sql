-- providers 002: organisations with their approval, weekly availability with exceptions, canteens.

CREATE TABLE organisations (
    id                  uuid PRIMARY KEY,      -- the organisation id identity gives the provider account
    kind                text NOT NULL CHECK (kind IN ('canteen', 'home_care', 'clinic', 'nursery',
                                                      'home_nursery_point')),
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    registration_number text CHECK (length(registration_number) BETWEEN 1 AND 40),
    community_id        bigint NOT NULL CHECK (community_id BETWEEN 100000000 AND 999999999),
    address             text NOT NULL CHECK (length(address) BETWEEN 1 AND 200),
    lat                 double precision NOT NULL CHECK (lat BETWEEN 18.0 AND 53.6),
    lon                 double precision NOT NULL CHECK (lon BETWEEN 73.5 AND 135.1),
    status              text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    status_reason       text NOT NULL DEFAULT '',
    suspended_until     timestamptz,
    suspend_reason      text NOT NULL DEFAULT '',
    updated_at          timestamptz NOT NULL DEFAULT now(),
    -- Nurseries and home nursery points are licensed: no registration number, no organisation.
    CONSTRAINT nursery_registered CHECK (kind NOT IN ('nursery', 'home_nursery_point')
                                         OR registration_number IS NOT NULL),
    -- A rejection always says why.
    CONSTRAINT rejection_reason CHECK (status <> 'rejected' OR status_reason <> ''),
    UNIQUE (id, kind)
);
CREATE INDEX organisations_status ON organisations (status, community_id);

CREATE TABLE organisation_history (
    id         bigserial PRIMARY KEY,
    org_id     uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    action     text NOT NULL,
    actor_id   text NOT NULL,
    actor_role text NOT NULL,
    reason     text NOT NULL DEFAULT '',
    at         timestamptz NOT NULL DEFAULT now()
);

-- Workers belong to a registered organisation (NOT VALID: rows written before organisations existed stay).
ALTER TABLE workers ADD CONSTRAINT workers_org FOREIGN KEY (org_id) REFERENCES organisations (id) NOT VALID;

-- Weekly availability as minutes of the local day (China Standard Time), one multirange per weekday
-- (1 = Monday … 7 = Sunday). An exception replaces the weekday's pattern on one date; an empty multirange is a
-- day off.
CREATE TABLE availability (
    worker_id uuid NOT NULL REFERENCES workers (id) ON DELETE CASCADE,
    weekday   smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    minutes   int4multirange NOT NULL CHECK (minutes <@ int4multirange(int4range(0, 1440))),
    PRIMARY KEY (worker_id, weekday)
);
CREATE TABLE availability_exceptions (
    worker_id uuid NOT NULL REFERENCES workers (id) ON DELETE CASCADE,
    on_date   date NOT NULL,
    minutes   int4multirange NOT NULL CHECK (minutes <@ int4multirange(int4range(0, 1440))),
    PRIMARY KEY (worker_id, on_date)
);

-- Canteens: only an organisation of kind canteen has a canteen row (the kind is part of the key).
CREATE TABLE canteens (
    org_id             uuid PRIMARY KEY,
    kind               text NOT NULL DEFAULT 'canteen' CHECK (kind = 'canteen'),
    delivery_radius_km double precision NOT NULL CHECK (delivery_radius_km > 0 AND delivery_radius_km <= 10),
    diet_tags          text[] NOT NULL DEFAULT '{}'
        CHECK (diet_tags <@ ARRAY['low_salt', 'low_sugar', 'soft', 'halal', 'vegetarian']),
    FOREIGN KEY (org_id, kind) REFERENCES organisations (id, kind) ON DELETE CASCADE
);
CREATE TABLE canteen_slots (
    org_id        uuid NOT NULL REFERENCES canteens (org_id) ON DELETE CASCADE,
    slot          text NOT NULL CHECK (slot IN ('breakfast', 'lunch', 'dinner')),
    meals         integer NOT NULL CHECK (meals BETWEEN 1 AND 5000),
    PRIMARY KEY (org_id, slot)
);

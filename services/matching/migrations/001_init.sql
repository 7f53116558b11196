-- matching: the orders waiting per street, who owns each street, offers with one outcome each, the
-- assignment ledger, and what the cost weighs (continuity, scores).
CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;

-- What matching knows of an order, from order.created (and the reconciler's read of orders).
CREATE TABLE open_orders (
    order_id            uuid PRIMARY KEY,
    street              bigint NOT NULL CHECK (street BETWEEN 100000 AND 999999),
    community_id        bigint NOT NULL,
    recipient_id        uuid NOT NULL,
    kind                text NOT NULL,
    sub_type            text NOT NULL,
    lat                 double precision,
    lon                 double precision,
    window_start        timestamptz NOT NULL,
    window_end          timestamptz NOT NULL,
    asap                boolean NOT NULL,
    deadline            timestamptz NOT NULL,
    ability_level       int NOT NULL DEFAULT 0 CHECK (ability_level BETWEEN 0 AND 4),
    priority_categories int NOT NULL DEFAULT 0 CHECK (priority_categories >= 0),
    gender_preference   text,
    attempt             int NOT NULL DEFAULT 0,
    -- waiting: to be offered; offered: one offer in flight; assigned; closed (cancelled, expired, done);
    -- stale: orders refused what matching believed, the reconciler reads the truth again.
    state               text NOT NULL CHECK (state IN ('waiting', 'offered', 'assigned', 'closed', 'stale')),
    created_at          timestamptz NOT NULL,
    first_offer_at      timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX open_orders_waiting ON open_orders (street, created_at) WHERE state IN ('waiting', 'stale');

-- One owner per street at a time; the token moves on with every change of owner (fencing).
CREATE TABLE street_leases (
    street     bigint PRIMARY KEY,
    owner      text NOT NULL,
    token      bigint NOT NULL,
    expires_at timestamptz NOT NULL
);

-- The matching processes alive, so that each takes its share of the streets.
CREATE TABLE members (
    owner   text PRIMARY KEY,
    seen_at timestamptz NOT NULL
);

CREATE TABLE offers (
    id           uuid PRIMARY KEY,
    order_id     uuid NOT NULL REFERENCES open_orders (order_id),
    worker_id    uuid NOT NULL,
    org_id       uuid NOT NULL,
    street       bigint NOT NULL,
    lease_token  bigint NOT NULL,
    attempt      int,  -- the order's attempt once orders took the offer
    -- pending: written, orders not yet told; live: the worker may answer; accepting, declining, expiring: an
    -- outcome is being applied in orders; then accepted, declined, expired, or void (never shown).
    state        text NOT NULL CHECK (state IN ('pending', 'live', 'accepting', 'declining', 'expiring',
                                                'accepted', 'declined', 'expired', 'void')),
    reason       text NOT NULL DEFAULT '' CHECK (length(reason) <= 500),
    travel_min   double precision NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    changed_at   timestamptz NOT NULL,
    CHECK (expires_at > created_at)
);
-- At most one offer per order in flight.
CREATE UNIQUE INDEX offers_one_open ON offers (order_id)
    WHERE state IN ('pending', 'live', 'accepting', 'declining', 'expiring');
CREATE INDEX offers_worker_open ON offers (worker_id)
    WHERE state IN ('pending', 'live', 'accepting', 'declining', 'expiring');
CREATE INDEX offers_due ON offers (expires_at) WHERE state = 'live';
CREATE INDEX offers_order ON offers (order_id);

-- Who is not offered an order again: the worker declined it or let its offer expire.
CREATE TABLE exclusions (
    order_id  uuid NOT NULL,
    worker_id uuid NOT NULL,
    reason    text NOT NULL,
    PRIMARY KEY (order_id, worker_id)
);

-- The assignment ledger: a worker never holds two jobs whose times overlap.
CREATE TABLE assignments (
    order_id   uuid PRIMARY KEY,
    worker_id  uuid NOT NULL,
    org_id     uuid NOT NULL,
    offer_id   uuid NOT NULL REFERENCES offers (id),
    during     tstzrange NOT NULL CHECK (NOT isempty(during)),
    active     boolean NOT NULL DEFAULT true,
    EXCLUDE USING gist (worker_id WITH =, during WITH &&) WHERE (active)
);
CREATE INDEX assignments_worker ON assignments (worker_id) WHERE active;

-- Caregivers an elder already knows (order.completed).
CREATE TABLE continuity (
    recipient_id uuid NOT NULL,
    worker_id    uuid NOT NULL,
    jobs         int NOT NULL DEFAULT 1,
    last_at      timestamptz NOT NULL,
    PRIMARY KEY (recipient_id, worker_id)
);

-- A worker's rating score (rating.score_changed, once ratings publish it); absent: neutral.
CREATE TABLE worker_scores (
    worker_id  uuid PRIMARY KEY,
    score      double precision NOT NULL CHECK (score BETWEEN 1 AND 5),
    updated_at timestamptz NOT NULL
);

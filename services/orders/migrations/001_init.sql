-- orders 001: orders with their lifecycle, the history of every transition, and idempotency keys.
CREATE TABLE orders (
    id                   uuid PRIMARY KEY,
    family_id            uuid NOT NULL,
    recipient_id         uuid NOT NULL,
    community_id         bigint NOT NULL,
    kind                 text NOT NULL CHECK (kind IN ('meal', 'bath', 'medical_visit', 'cleaning')),
    sub_type             text NOT NULL CHECK (length(sub_type) BETWEEN 1 AND 40),
    status               text NOT NULL CHECK (status IN ('created', 'matching', 'offered', 'assigned', 'en_route',
                                                         'in_service', 'completed', 'cancelled', 'expired', 'failed')),
    asap                 boolean NOT NULL,
    window_start         timestamptz NOT NULL,
    window_end           timestamptz NOT NULL,
    address              text NOT NULL DEFAULT '',
    lat                  double precision,
    lon                  double precision,
    notes                text NOT NULL DEFAULT '' CHECK (length(notes) <= 500),
    price_fen            bigint NOT NULL CHECK (price_fen >= 0),
    subsidy_fen          bigint NOT NULL CHECK (subsidy_fen BETWEEN 0 AND price_fen),
    family_fen           bigint NOT NULL,
    cancellation_fee_fen bigint NOT NULL DEFAULT 0 CHECK (cancellation_fee_fen BETWEEN 0 AND family_fen),
    service_code         text NOT NULL CHECK (service_code ~ '^[0-9]{6}$'),
    worker_id            uuid,
    org_id               uuid,
    attempt              integer NOT NULL DEFAULT 0,  -- fencing token: every offer/assignment bumps it
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CHECK (window_end > window_start),
    CHECK (family_fen = price_fen - subsidy_fen),
    CHECK ((status IN ('assigned', 'en_route', 'in_service', 'completed')) <= (worker_id IS NOT NULL))
);
CREATE INDEX orders_family ON orders (family_id, created_at DESC, id DESC);
CREATE INDEX orders_community ON orders (community_id, created_at DESC, id DESC);
CREATE INDEX orders_worker ON orders (worker_id) WHERE worker_id IS NOT NULL;

CREATE TABLE order_history (
    id           bigserial PRIMARY KEY,
    order_id     uuid NOT NULL REFERENCES orders (id),
    from_status  text,
    to_status    text NOT NULL,
    actor_id     text NOT NULL,
    actor_role   text NOT NULL,
    reason       text NOT NULL DEFAULT '',
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_history_order ON order_history (order_id, id);

-- Idempotency-Key per caller: the first response is kept and replayed byte for byte.
CREATE TABLE idempotency_keys (
    caller_id        text NOT NULL,
    key              text NOT NULL CHECK (length(key) BETWEEN 1 AND 100),
    request_hash     text NOT NULL,
    state            text NOT NULL CHECK (state IN ('in_progress', 'done')),
    response_status  integer,
    response_body    text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (caller_id, key),
    CHECK ((state = 'done') = (response_status IS NOT NULL))
);

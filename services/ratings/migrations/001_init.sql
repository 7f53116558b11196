-- ratings: the services a family may rate (from order.completed), one review per service with its history, the
-- provider's reply and appeal, and scores per worker and organisation.
CREATE TABLE served (
    order_id     uuid PRIMARY KEY,
    source       text NOT NULL CHECK (source IN ('order', 'booking')),
    family_id    uuid NOT NULL,
    recipient_id uuid,
    worker_id    uuid,
    org_id       uuid,
    kind         text NOT NULL,
    community_id bigint NOT NULL,
    completed_at timestamptz NOT NULL
);

CREATE TABLE reviews (
    id              uuid PRIMARY KEY,
    order_id        uuid NOT NULL UNIQUE REFERENCES served (order_id),  -- one review per service (一事一评)
    family_id       uuid NOT NULL,
    org_id          uuid,
    worker_id       uuid,
    kind            text NOT NULL,
    community_id    bigint NOT NULL,
    level           int NOT NULL CHECK (level BETWEEN 1 AND 5),
    dimensions      jsonb NOT NULL DEFAULT '{}',
    tags            text[] NOT NULL DEFAULT '{}',
    comment         text NOT NULL DEFAULT '' CHECK (char_length(comment) <= 500),
    anonymous       boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    editable_until  timestamptz NOT NULL,
    bad_reported    boolean NOT NULL DEFAULT false,  -- rating.bad published (once)
    reply           text CHECK (reply IS NULL OR char_length(reply) BETWEEN 1 AND 500),
    replied_at      timestamptz,
    appeal_state    text NOT NULL DEFAULT 'none' CHECK (appeal_state IN ('none', 'pending', 'upheld', 'overturned')),
    appeal_reason   text CHECK (appeal_reason IS NULL OR char_length(appeal_reason) BETWEEN 1 AND 500),
    appealed_at     timestamptz,
    decision_note   text,
    decided_by      uuid,
    decided_at      timestamptz,
    followup_state  text NOT NULL DEFAULT 'none' CHECK (followup_state IN ('none', 'open', 'done')),
    CHECK ((reply IS NULL) = (replied_at IS NULL)),
    CHECK ((appeal_state = 'none') = (appeal_reason IS NULL)),
    CHECK ((appeal_state IN ('upheld', 'overturned')) = (decided_at IS NOT NULL))
);
CREATE INDEX reviews_org ON reviews (org_id, created_at DESC, id DESC);
CREATE INDEX reviews_worker ON reviews (worker_id, created_at DESC);
CREATE INDEX reviews_community ON reviews (community_id, created_at DESC, id DESC);
CREATE INDEX reviews_family ON reviews (family_id, created_at DESC, id DESC);

-- Every version of a review, the first included.
CREATE TABLE review_history (
    id         bigserial PRIMARY KEY,
    review_id  uuid NOT NULL REFERENCES reviews (id),
    level      int NOT NULL,
    dimensions jsonb NOT NULL,
    tags       text[] NOT NULL,
    comment    text NOT NULL,
    at         timestamptz NOT NULL
);

CREATE TABLE scores (
    subject_type text NOT NULL CHECK (subject_type IN ('worker', 'org')),
    subject_id   uuid NOT NULL,
    score        double precision NOT NULL CHECK (score BETWEEN 1 AND 5),
    count        int NOT NULL CHECK (count >= 0),
    counts       int[] NOT NULL CHECK (cardinality(counts) = 5),  -- reviews per level 1 … 5
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (subject_type, subject_id)
);

CREATE TABLE idempotency_keys (
    caller_id        text NOT NULL,
    key              text NOT NULL CHECK (length(key) BETWEEN 1 AND 100),
    request_hash     text NOT NULL,
    state            text NOT NULL CHECK (state IN ('in_progress', 'done')),
    token            uuid,
    response_status  integer,
    response_body    text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (caller_id, key),
    CHECK ((state = 'done') = (response_status IS NOT NULL))
);

-- Supervision's read models: one row per order, review and ticket, written only from events (each at the time
-- the event occurred), so that reading the streams again gives the same rows.
CREATE TABLE orders_seen (
    order_id     uuid PRIMARY KEY,
    community_id bigint NOT NULL,
    kind         text,
    priority     boolean NOT NULL DEFAULT false,
    created_at   timestamptz,
    assigned_at  timestamptz,
    state        text NOT NULL DEFAULT 'created'
                 CHECK (state IN ('created', 'assigned', 'started', 'completed', 'cancelled', 'expired', 'failed')),
    closed_at    timestamptz,
    CHECK (assigned_at IS NULL OR created_at IS NULL OR assigned_at >= created_at - interval '1 minute')
);
CREATE INDEX orders_seen_by_community ON orders_seen (community_id, created_at);

CREATE TABLE reviews_seen (
    review_id    uuid PRIMARY KEY,
    community_id bigint NOT NULL,
    org_id       uuid,
    level        int NOT NULL CHECK (level BETWEEN 1 AND 5),
    created_at   timestamptz NOT NULL,
    followed_up  boolean NOT NULL DEFAULT false
);
CREATE INDEX reviews_seen_by_community ON reviews_seen (community_id, created_at);

CREATE TABLE tickets_seen (
    ticket_id    uuid PRIMARY KEY,
    community_id bigint NOT NULL,
    severity     text NOT NULL,
    org_id       uuid,
    filed_at     timestamptz NOT NULL,
    resolved_at  timestamptz,
    closed_at    timestamptz,
    breached     boolean NOT NULL DEFAULT false,
    reopened     int NOT NULL DEFAULT 0 CHECK (reopened >= 0)
);
CREATE INDEX tickets_seen_by_community ON tickets_seen (community_id, filed_at);

-- Follow-ups that arrived before their review (complaint.closed names the review).
CREATE TABLE followups_seen (
    review_id uuid PRIMARY KEY
);

CREATE TABLE org_scores_seen (
    org_id uuid PRIMARY KEY,
    score  float8 NOT NULL CHECK (score BETWEEN 0 AND 5),
    count  int NOT NULL CHECK (count >= 0)
);

-- complaints: the services a family may complain about (from order.completed), tickets with their SLA clocks and
-- a version for claims, and the timeline of every change.
CREATE TABLE served (
    order_id     uuid PRIMARY KEY,
    family_id    uuid NOT NULL,
    recipient_id uuid,
    worker_id    uuid,
    org_id       uuid,
    kind         text NOT NULL,
    community_id bigint NOT NULL,
    completed_at timestamptz NOT NULL
);

CREATE TABLE tickets (
    id               uuid PRIMARY KEY,
    source           text NOT NULL CHECK (source IN ('family', 'rating', 'phone')),
    order_id         uuid,
    review_id        uuid UNIQUE,  -- one rectification ticket per bad review
    family_id        uuid,
    org_id           uuid,
    worker_id        uuid,
    community_id     bigint NOT NULL,
    category         text NOT NULL CHECK (category IN ('safety', 'no_show', 'quality', 'fee', 'privacy', 'attitude',
                                                       'other', 'rectification')),
    severity         text NOT NULL CHECK (severity IN ('urgent', 'high', 'normal')),
    text             text NOT NULL CHECK (char_length(text) BETWEEN 1 AND 2000),
    state            text NOT NULL CHECK (state IN ('open', 'claimed', 'resolved', 'closed')),
    version          int NOT NULL DEFAULT 0,
    assignee         uuid,
    transfers        int NOT NULL DEFAULT 0 CHECK (transfers BETWEEN 0 AND 2),
    escalated        boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL,
    sign_due         timestamptz NOT NULL,
    resolve_due      timestamptz NOT NULL,
    signed_at        timestamptz,
    sign_warned      boolean NOT NULL DEFAULT false,
    sign_breached    boolean NOT NULL DEFAULT false,
    resolve_warned   boolean NOT NULL DEFAULT false,
    resolve_breached boolean NOT NULL DEFAULT false,
    outcome          text CHECK (outcome IN ('upheld', 'partly_upheld', 'not_upheld')),
    measures         text,
    refund_fen       bigint CHECK (refund_fen >= 0),
    resolved_at      timestamptz,
    family_confirmed boolean NOT NULL DEFAULT false,
    satisfaction     int CHECK (satisfaction BETWEEN 1 AND 5),
    reopens          int NOT NULL DEFAULT 0,
    closed_at        timestamptz,
    CHECK ((state = 'claimed') = (assignee IS NOT NULL) OR state IN ('resolved', 'closed')),
    CHECK ((state IN ('resolved', 'closed')) = (outcome IS NOT NULL)),
    CHECK (source = 'rating' OR category <> 'rectification')
);
CREATE INDEX tickets_queue ON tickets (community_id, state, severity, resolve_due);
CREATE INDEX tickets_family ON tickets (family_id, created_at DESC);
CREATE INDEX tickets_org ON tickets (org_id, created_at DESC);
CREATE INDEX tickets_open ON tickets (resolve_due) WHERE state <> 'closed';

-- Every change, with actor and time; internal notes are for staff only.
CREATE TABLE timeline (
    id         bigserial PRIMARY KEY,
    ticket_id  uuid NOT NULL REFERENCES tickets (id),
    at         timestamptz NOT NULL,
    actor_id   text NOT NULL,
    actor_role text NOT NULL,
    action     text NOT NULL,
    note       text NOT NULL DEFAULT '' CHECK (char_length(note) <= 2000),
    internal   boolean NOT NULL DEFAULT false
);
CREATE INDEX timeline_ticket ON timeline (ticket_id, id);

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

-- Workers as providers' worker.updated and worker.suspended describe them: their organisation, the expiry of each
-- credential (never its number) and a suspension, for the watchlist.
CREATE TABLE workers_seen (
    worker_id        uuid PRIMARY KEY,
    org_id           uuid NOT NULL,
    community_id     bigint,
    suspended_until  timestamptz
);
CREATE INDEX workers_seen_org ON workers_seen (org_id);
CREATE INDEX workers_seen_community ON workers_seen (community_id);

CREATE TABLE credentials_seen (
    worker_id   uuid NOT NULL REFERENCES workers_seen ON DELETE CASCADE,
    type        text NOT NULL,
    expires_on  date NOT NULL,
    PRIMARY KEY (worker_id, type)
);

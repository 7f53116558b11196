-- Organisations' suspensions, from providers' provider.suspended: the watchlist shows who is suspended now.
CREATE TABLE org_suspensions_seen (
    org_id  uuid PRIMARY KEY,
    until   timestamptz NOT NULL,
    reason  text NOT NULL DEFAULT ''
);

-- The elders as identity's recipient.saved describes them (family, community, address, location, ability,
-- priority categories, birth date): an order is placed and priced without calling identity. recipient.deleted
-- removes the row.
CREATE TABLE recipients_seen (
    recipient_id  uuid PRIMARY KEY,
    family_id     uuid NOT NULL,
    community_id  bigint NOT NULL,
    facts         jsonb NOT NULL,
    seen_at       timestamptz NOT NULL DEFAULT now()
);

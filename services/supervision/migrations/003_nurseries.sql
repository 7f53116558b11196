-- Nurseries' licensed places per community, from nursery.saved: places per 1,000 residents against 4.5.
CREATE TABLE nurseries_seen (
    nursery_id   uuid PRIMARY KEY,
    community_id bigint NOT NULL,
    places       int NOT NULL CHECK (places >= 0)
);
CREATE INDEX nurseries_seen_by_community ON nurseries_seen (community_id);

-- Matching's reconciler pages through a street's orders still waiting for a worker.
CREATE INDEX orders_waiting ON orders (community_id, id) WHERE status IN ('created', 'matching', 'offered');

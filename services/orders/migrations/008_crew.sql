-- orders 008: a bath for an elder of ability level 2 or worse takes two workers (a crew). Seat 0 is worker_id,
-- seat 1 second_worker_id: both named while the crew is offered, both held once assigned.
ALTER TABLE orders ADD COLUMN crew int NOT NULL DEFAULT 1 CHECK (crew IN (1, 2));
ALTER TABLE orders ADD COLUMN second_worker_id uuid;
ALTER TABLE orders ADD COLUMN second_org_id uuid;
ALTER TABLE orders ADD CONSTRAINT orders_crew_seats CHECK (
    (second_worker_id IS NULL OR (crew = 2 AND worker_id IS NOT NULL AND second_worker_id <> worker_id))
    AND ((crew = 2 AND status IN ('assigned', 'en_route', 'in_service', 'completed')) <= (second_worker_id IS NOT NULL)));
CREATE INDEX orders_second_worker ON orders (second_worker_id) WHERE second_worker_id IS NOT NULL;

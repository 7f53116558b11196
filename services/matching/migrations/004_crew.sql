-- A bath for a frail elder takes a crew of two workers: one offer and one assignment per seat (0, 1).
ALTER TABLE open_orders ADD COLUMN crew int NOT NULL DEFAULT 1 CHECK (crew IN (1, 2));
ALTER TABLE offers ADD COLUMN seat int NOT NULL DEFAULT 0 CHECK (seat IN (0, 1));
-- At most one offer per seat in flight.
DROP INDEX offers_one_open;
CREATE UNIQUE INDEX offers_one_open ON offers (order_id, seat)
    WHERE state IN ('pending', 'live', 'accepting', 'declining', 'expiring');
-- One assignment per seat; a worker holds at most one seat of a job (the exclusion constraint: the seats of
-- one job share its time).
ALTER TABLE assignments ADD COLUMN seat int NOT NULL DEFAULT 0 CHECK (seat IN (0, 1));
ALTER TABLE assignments DROP CONSTRAINT assignments_pkey;
ALTER TABLE assignments ADD PRIMARY KEY (order_id, seat);

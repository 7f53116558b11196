-- A crew's job (a bath taken by two workers): the second worker is served, rated and scored too.
ALTER TABLE served ADD COLUMN second_worker_id uuid;
ALTER TABLE reviews ADD COLUMN second_worker_id uuid;
CREATE INDEX reviews_second_worker ON reviews (second_worker_id, created_at DESC) WHERE second_worker_id IS NOT NULL;

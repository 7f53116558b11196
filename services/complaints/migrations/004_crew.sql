-- The served read model is shared with ratings: a crew's job names its second worker.
ALTER TABLE served ADD COLUMN second_worker_id uuid;

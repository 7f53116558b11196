-- Idempotency claims carry a fencing token: only the request holding it stores the answer, so a request that
-- outlived its claim (and was retried) can no longer write.
ALTER TABLE idempotency_keys ADD COLUMN token uuid;

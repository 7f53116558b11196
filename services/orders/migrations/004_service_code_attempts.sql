-- The one-time service code can no longer be guessed: wrong codes are counted per order, completion locks after
-- the limit until the family issues a new code, and every attempt is recorded.
ALTER TABLE orders ADD COLUMN code_failures int NOT NULL DEFAULT 0 CHECK (code_failures >= 0);

CREATE TABLE code_attempts (
    id        bigserial PRIMARY KEY,
    order_id  uuid NOT NULL REFERENCES orders (id),
    actor_id  text NOT NULL,
    outcome   text NOT NULL CHECK (outcome IN ('right', 'wrong', 'locked', 'reissued')),
    at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX code_attempts_order ON code_attempts (order_id, at);

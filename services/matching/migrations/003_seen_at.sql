-- When matching learned of an order (its order.created was handled): with created_at, the event's lag.
ALTER TABLE open_orders ADD COLUMN seen_at timestamptz NOT NULL DEFAULT clock_timestamp();

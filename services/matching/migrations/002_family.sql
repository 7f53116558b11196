-- Who ordered each open order: its offer events name the family, to be told live.
ALTER TABLE open_orders ADD COLUMN family_id uuid;

-- Check-in happens near the address: the worker's position and its distance from the address are recorded.
ALTER TABLE orders ADD COLUMN check_in_lat double precision;
ALTER TABLE orders ADD COLUMN check_in_lon double precision;
ALTER TABLE orders ADD COLUMN check_in_distance_m double precision CHECK (check_in_distance_m >= 0);

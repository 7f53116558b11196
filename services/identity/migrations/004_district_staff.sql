-- District staff: staff assigned whole districts. Their scope is every community under those districts, resolved
-- whenever a token is issued, so a community added to the district joins it at the next refresh.
ALTER TABLE users ADD COLUMN districts bigint[] NOT NULL DEFAULT '{}';
ALTER TABLE users ADD CONSTRAINT users_districts_for_staff
    CHECK (role = 'staff' OR cardinality(districts) = 0);

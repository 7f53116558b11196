-- nursery 005: who may collect a child, sealed at rest with the platform data key (auth.data_key): one sealed
-- person (name, phone, relation) per row, unique per child by the phone's keyed hash. The plain columns remain
-- for rows written before this migration until the service seals them at its next start and validates the
-- check; NOT VALID already refuses any new plain value.
ALTER TABLE pickup_persons ADD COLUMN phone_index text CHECK (phone_index ~ '^[0-9a-f]{64}$');
ALTER TABLE pickup_persons ADD COLUMN person_sealed text;
ALTER TABLE pickup_persons DROP CONSTRAINT pickup_persons_pkey;
ALTER TABLE pickup_persons ALTER COLUMN name DROP NOT NULL;
ALTER TABLE pickup_persons ALTER COLUMN phone DROP NOT NULL;
ALTER TABLE pickup_persons ALTER COLUMN relation DROP NOT NULL;
ALTER TABLE pickup_persons ADD CONSTRAINT pickup_persons_sealed_with_index
    CHECK ((phone_index IS NULL) = (person_sealed IS NULL));
ALTER TABLE pickup_persons ADD CONSTRAINT pickup_persons_no_plain_personal_data
    CHECK (name IS NULL AND phone IS NULL AND relation IS NULL) NOT VALID;
CREATE UNIQUE INDEX pickup_persons_one_per_phone ON pickup_persons (child_id, phone_index);

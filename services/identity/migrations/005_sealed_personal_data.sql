-- identity 005: personal data sealed at rest with the platform data key (auth.data_key). A phone is found and
-- kept unique by its keyed hash (phone_index); the number, display names, and an elder's name, address and
-- emergency contacts are sealed. The plain columns remain for rows written before this migration until the
-- service seals them at its next start and validates the checks below; NOT VALID checks already refuse any
-- new plain value.
ALTER TABLE users ADD COLUMN phone_index text UNIQUE CHECK (phone_index ~ '^[0-9a-f]{64}$');
ALTER TABLE users ADD COLUMN phone_sealed text;
ALTER TABLE users ADD COLUMN display_name_sealed text;
ALTER TABLE users ADD CONSTRAINT users_phone_sealed_with_index CHECK ((phone_index IS NULL) = (phone_sealed IS NULL));
ALTER TABLE users ADD CONSTRAINT users_no_plain_personal_data
    CHECK (phone IS NULL AND display_name = '') NOT VALID;

ALTER TABLE recipients ADD COLUMN name_sealed text;
ALTER TABLE recipients ADD COLUMN address_sealed text;
ALTER TABLE recipients ADD COLUMN contacts_sealed text;
-- An elder has a name, a birth date and an ability level; a child's name lives in `sealed` only.
ALTER TABLE recipients DROP CONSTRAINT recipients_check1;
ALTER TABLE recipients ADD CONSTRAINT recipients_elder_complete
    CHECK (kind = 'child' OR ((name IS NOT NULL OR name_sealed IS NOT NULL) AND birth_date IS NOT NULL AND
                              ability_level IS NOT NULL));
ALTER TABLE recipients ADD CONSTRAINT recipients_child_name_only_sealed
    CHECK (kind = 'elder' OR name_sealed IS NULL);
ALTER TABLE recipients ADD CONSTRAINT recipients_no_plain_personal_data
    CHECK (name IS NULL AND address IS NULL AND emergency_contacts = '[]') NOT VALID;

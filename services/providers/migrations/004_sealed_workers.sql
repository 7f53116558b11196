-- providers 004: a worker's name and credential numbers sealed at rest with the platform data key
-- (auth.data_key). The plain columns remain for rows written before this migration until the service seals
-- them at its next start and validates the checks; NOT VALID already refuses any new plain value.
ALTER TABLE workers ADD COLUMN name_sealed text;
ALTER TABLE workers ALTER COLUMN name DROP NOT NULL;
ALTER TABLE workers ADD CONSTRAINT workers_named CHECK (name IS NOT NULL OR name_sealed IS NOT NULL);
ALTER TABLE workers ADD CONSTRAINT workers_no_plain_personal_data CHECK (name IS NULL) NOT VALID;

ALTER TABLE credentials ADD COLUMN number_sealed text;
ALTER TABLE credentials ALTER COLUMN number DROP NOT NULL;
ALTER TABLE credentials ADD CONSTRAINT credentials_numbered CHECK (number IS NOT NULL OR number_sealed IS NOT NULL);
ALTER TABLE credentials ADD CONSTRAINT credentials_no_plain_personal_data CHECK (number IS NULL) NOT VALID;

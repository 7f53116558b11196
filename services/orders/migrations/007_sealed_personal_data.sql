-- orders 007: an order's address and notes sealed at rest with the platform data key (auth.data_key), as
-- identity's recipient.saved now carries the address (address_sealed). The plain columns remain for rows
-- written before this migration until the service seals them at its next start and validates the check; NOT
-- VALID already refuses any new plain value.
ALTER TABLE orders ADD COLUMN address_sealed text;
ALTER TABLE orders ADD COLUMN notes_sealed text;
ALTER TABLE orders ADD CONSTRAINT orders_no_plain_personal_data CHECK (address = '' AND notes = '') NOT VALID;

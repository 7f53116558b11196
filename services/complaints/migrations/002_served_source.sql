-- The served read model is shared with ratings: it names where a service came from (an order or a booking).
ALTER TABLE served ADD COLUMN source text NOT NULL DEFAULT 'order' CHECK (source IN ('order', 'booking'));

-- nursery 002: a waitlisted request whose first day has passed expires (the family is told).
ALTER TABLE bookings DROP CONSTRAINT bookings_status_check;
ALTER TABLE bookings ADD CONSTRAINT bookings_status_check
    CHECK (status IN ('confirmed', 'waitlisted', 'cancelled', 'expired'));

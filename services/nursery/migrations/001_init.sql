-- nursery 001: nurseries, classes by age band, the capacity calendar, bookings, the waitlist, attendance.
-- Capacity lives in counters with CHECKs: a place is taken by an UPDATE … WHERE taken < capacity, so that
-- no interleaving of bookings can hold more children than a class (or a nursery) has places on a day.

CREATE TABLE nurseries (
    id                  uuid PRIMARY KEY,      -- the providers organisation (kind nursery or home_nursery_point)
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    kind                text NOT NULL CHECK (kind IN ('institution', 'community', 'employer',
                                                      'kindergarten_class', 'home_point')),
    registration_number text NOT NULL CHECK (length(registration_number) BETWEEN 1 AND 40),
    community_id        bigint NOT NULL CHECK (community_id BETWEEN 100000000 AND 999999999),
    address             text NOT NULL CHECK (length(address) BETWEEN 1 AND 200),
    lat                 double precision NOT NULL CHECK (lat BETWEEN 18.0 AND 53.6),
    lon                 double precision NOT NULL CHECK (lon BETWEEN 73.5 AND 135.1),
    opens               time NOT NULL,
    closes              time NOT NULL,
    licensed_places     integer NOT NULL CHECK (licensed_places BETWEEN 1 AND 1000),
    affordable_percent  integer NOT NULL DEFAULT 0 CHECK (affordable_percent BETWEEN 0 AND 100),
    price_full_day_fen  integer NOT NULL CHECK (price_full_day_fen BETWEEN 0 AND 10000000),
    price_half_day_fen  integer NOT NULL CHECK (price_half_day_fen BETWEEN 0 AND 10000000),
    price_hour_fen      integer NOT NULL CHECK (price_hour_fen BETWEEN 0 AND 10000000),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (opens < closes),
    -- A home nursery point is small by rule: five children at most.
    CONSTRAINT home_point_small CHECK (kind <> 'home_point' OR licensed_places <= 5)
);
CREATE INDEX nurseries_community ON nurseries (community_id);

-- One class per age band; its daily places are caregivers × the band's ratio (1:3, 1:5, 1:7), never above the
-- nursery's licensed places.
CREATE TABLE classes (
    id          uuid PRIMARY KEY,
    nursery_id  uuid NOT NULL REFERENCES nurseries (id) ON DELETE CASCADE,
    band        text NOT NULL CHECK (band IN ('6-12', '12-24', '24-36')),
    caregivers  integer NOT NULL CHECK (caregivers BETWEEN 1 AND 50),
    places      integer NOT NULL CHECK (places >= 1),
    CHECK (places <= caregivers * CASE band WHEN '6-12' THEN 3 WHEN '12-24' THEN 5 ELSE 7 END),
    UNIQUE (nursery_id, band)
);

-- The capacity calendar, a row per class and day once someone books it. `affordable` places are held for
-- eligible (普惠) families; the others take from the rest.
CREATE TABLE class_days (
    class_id         uuid NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
    day              date NOT NULL,
    capacity         integer NOT NULL CHECK (capacity >= 0),
    affordable       integer NOT NULL CHECK (affordable >= 0 AND affordable <= capacity),
    taken            integer NOT NULL DEFAULT 0,
    taken_affordable integer NOT NULL DEFAULT 0,
    PRIMARY KEY (class_id, day),
    CONSTRAINT never_over_capacity CHECK (taken BETWEEN 0 AND capacity),
    CHECK (taken_affordable BETWEEN 0 AND least(affordable, taken))
);
-- The whole nursery's day: never more children than its licensed places, whatever the classes say.
CREATE TABLE nursery_days (
    nursery_id uuid NOT NULL REFERENCES nurseries (id) ON DELETE CASCADE,
    day        date NOT NULL,
    capacity   integer NOT NULL CHECK (capacity >= 0),
    taken      integer NOT NULL DEFAULT 0,
    PRIMARY KEY (nursery_id, day),
    CONSTRAINT never_over_licence CHECK (taken BETWEEN 0 AND capacity)
);

CREATE TABLE bookings (
    id          uuid PRIMARY KEY,
    family_id   uuid NOT NULL,
    child_id    uuid NOT NULL,
    nursery_id  uuid NOT NULL REFERENCES nurseries (id),
    class_id    uuid NOT NULL REFERENCES classes (id),
    mode        text NOT NULL CHECK (mode IN ('full_day', 'half_day', 'hourly')),
    hours       integer CHECK (hours BETWEEN 1 AND 10),
    days        date[] NOT NULL CHECK (cardinality(days) BETWEEN 1 AND 62),
    status      text NOT NULL CHECK (status IN ('confirmed', 'waitlisted', 'cancelled')),
    priority    integer NOT NULL DEFAULT 0,
    affordable  boolean NOT NULL DEFAULT false,   -- the family is eligible for 普惠 places
    price_fen   bigint NOT NULL CHECK (price_fen >= 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((mode = 'hourly') = (hours IS NOT NULL))
);
CREATE INDEX bookings_family ON bookings (family_id, created_at DESC);
CREATE INDEX bookings_waitlist ON bookings (class_id, priority DESC, created_at, id) WHERE status = 'waitlisted';

-- The places a confirmed booking holds, one row per day: a child is in one place a day at most.
CREATE TABLE booking_days (
    booking_id  uuid NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
    class_id    uuid NOT NULL,
    child_id    uuid NOT NULL,
    day         date NOT NULL,
    affordable  boolean NOT NULL,      -- which pool the place came from
    checked_in  timestamptz,
    checked_out timestamptz,
    no_show     boolean NOT NULL DEFAULT false,
    PRIMARY KEY (booking_id, day),
    UNIQUE (child_id, day),
    FOREIGN KEY (class_id, day) REFERENCES class_days (class_id, day),
    CHECK (checked_out IS NULL OR (checked_in IS NOT NULL AND checked_out >= checked_in)),
    CHECK (NOT (no_show AND checked_in IS NOT NULL))
);

-- Who may collect a child: set by the family, checked by the nursery at check-out.
CREATE TABLE pickup_persons (
    child_id   uuid NOT NULL,
    family_id  uuid NOT NULL,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
    phone      text NOT NULL CHECK (phone ~ '^1[3-9][0-9]{9}$'),
    relation   text NOT NULL CHECK (length(relation) BETWEEN 1 AND 20),
    PRIMARY KEY (child_id, phone)
);

CREATE TABLE booking_history (
    id          bigserial PRIMARY KEY,
    booking_id  uuid NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
    action      text NOT NULL,
    actor_id    text NOT NULL,
    actor_role  text NOT NULL,
    detail      text NOT NULL DEFAULT '',
    at          timestamptz NOT NULL DEFAULT now()
);

-- Idempotency-Key per caller: the first response is kept and replayed byte for byte.
CREATE TABLE idempotency_keys (
    caller_id        text NOT NULL,
    key              text NOT NULL CHECK (length(key) BETWEEN 1 AND 100),
    request_hash     text NOT NULL,
    state            text NOT NULL CHECK (state IN ('in_progress', 'done')),
    response_status  integer,
    response_body    text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (caller_id, key),
    CHECK ((state = 'done') = (response_status IS NOT NULL))
);

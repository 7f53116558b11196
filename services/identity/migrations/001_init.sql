-- identity 001: the region tree (district → street → community) and user accounts.
CREATE TABLE regions (
    id          bigint PRIMARY KEY,
    parent_id   bigint REFERENCES regions (id),
    level       text NOT NULL CHECK (level IN ('district', 'street', 'community')),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    residents   integer NOT NULL DEFAULT 0 CHECK (residents >= 0),
    CHECK ((level = 'district') = (parent_id IS NULL))
);

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    phone         text UNIQUE CHECK (phone ~ '^1[3-9][0-9]{9}$'),
    role          text NOT NULL CHECK (role IN ('family', 'provider', 'worker', 'staff', 'admin')),
    password_hash text NOT NULL,
    display_name  text NOT NULL DEFAULT '' CHECK (length(display_name) <= 100),
    org_id        uuid,
    status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'pending', 'suspended', 'deleted')),
    created_at    timestamptz NOT NULL DEFAULT now()
);

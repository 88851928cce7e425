-- Migration 13: accounts with several roles (issue 5, decision 0020). `user_roles` holds every
-- role a user has in an agency (agency '' for citizens and administrators), the lowest position
-- being the default; `users.role`/`users.agency` keep the default grant. A session or token acts
-- as one grant (`tokens.role`/`tokens.agency`, NULL: the default). Disabled users cannot sign in.
ALTER TABLE users ADD COLUMN disabled boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN updated_at timestamptz;
CREATE TABLE user_roles (
    user_id uuid NOT NULL REFERENCES users(id),
    role text NOT NULL,
    agency text NOT NULL DEFAULT '',
    position integer NOT NULL,
    PRIMARY KEY (user_id, role, agency)
);
CREATE INDEX user_roles_agency ON user_roles(agency, role);
INSERT INTO user_roles (user_id, role, agency, position)
    SELECT id, role, COALESCE(agency, ''), 0 FROM users;
ALTER TABLE tokens ADD COLUMN role text;
ALTER TABLE tokens ADD COLUMN agency text;

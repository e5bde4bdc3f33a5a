-- Accounts of professionals, council members and administrators (never of
-- residents). The e-mail address is stored lower-cased by the application,
-- so UNIQUE means one account per address. The password is an argon2id PHC
-- string; created_at is UTC.
CREATE TABLE users (
    id SERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'professional', 'council')),
    password_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT FALSE
);

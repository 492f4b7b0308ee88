/// The county database's migrations, in order. Append only; never edit one that has shipped.
enum CountySchema {
    static let migrations = [
        """
        CREATE TABLE settings (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE signing_keys (
            kid        INTEGER PRIMARY KEY,
            public_key TEXT NOT NULL UNIQUE,
            valid_from INTEGER NOT NULL,
            valid_to   INTEGER,
            status     TEXT NOT NULL CHECK (status IN ('active', 'retired', 'revoked')),
            created_ms INTEGER NOT NULL
        );
        CREATE UNIQUE INDEX one_active_key ON signing_keys(status) WHERE status = 'active';
        CREATE TABLE sites (
            id              TEXT PRIMARY KEY,
            name            TEXT NOT NULL,
            bundle_sequence INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE classes (
            id         INTEGER PRIMARY KEY CHECK (id BETWEEN 1 AND 4294967295),
            site_id    TEXT NOT NULL REFERENCES sites(id),
            name       TEXT NOT NULL,
            trade      TEXT NOT NULL,
            level      INTEGER NOT NULL CHECK (level BETWEEN 0 AND 5),
            location   TEXT NOT NULL,
            start_day  INTEGER NOT NULL,
            end_day    INTEGER NOT NULL CHECK (end_day >= start_day),
            json       TEXT NOT NULL
        );
        -- No full ID number is kept: the pseudonym links a person across classes.
        CREATE TABLE vouchers (
            id            INTEGER PRIMARY KEY,
            class_id      INTEGER NOT NULL REFERENCES classes(id),
            trainee_ref   INTEGER NOT NULL,
            name          TEXT NOT NULL,
            id_masked     TEXT NOT NULL,
            category      TEXT,
            kid           INTEGER NOT NULL REFERENCES signing_keys(kid),
            valid_from    INTEGER NOT NULL,
            valid_to      INTEGER NOT NULL,
            flags         INTEGER NOT NULL,
            code          TEXT NOT NULL,
            issued_ms     INTEGER NOT NULL,
            revoked_ms    INTEGER,
            revoke_reason TEXT,
            UNIQUE (class_id, trainee_ref)
        );
        CREATE INDEX vouchers_class ON vouchers(class_id);
        """
    ]
}

/// The site database's migrations, in order. Append only; never edit one that has shipped.
enum SiteSchema {
    static let migrations = [
        """
        CREATE TABLE settings (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        -- The attendance log: append-only, gapless, hash-chained (see EventHash for the encoding).
        CREATE TABLE events (
            seq           INTEGER PRIMARY KEY CHECK (seq >= 1),
            uuid          TEXT NOT NULL UNIQUE,
            device_id     TEXT NOT NULL,
            kind          TEXT NOT NULL,
            direction     TEXT CHECK (direction IN ('in', 'out')),
            voucher_id    INTEGER,
            class_id      INTEGER,
            class_day     TEXT,
            session_index INTEGER,
            reason        TEXT,
            note          TEXT,
            code          TEXT,
            flags         TEXT NOT NULL,
            wall_ms       INTEGER NOT NULL,
            utc_offset    INTEGER NOT NULL,
            boot_id       TEXT NOT NULL,
            mono_ns       INTEGER NOT NULL,
            prev_hash     BLOB NOT NULL,
            hash          BLOB NOT NULL
        );
        CREATE INDEX events_voucher ON events(voucher_id);
        CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
            BEGIN SELECT RAISE(ABORT, 'the attendance log is append-only'); END;
        CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
            BEGIN SELECT RAISE(ABORT, 'the attendance log is append-only'); END;

        -- Device-signed statements of the log's head.
        CREATE TABLE checkpoints (
            id        INTEGER PRIMARY KEY,
            seq       INTEGER NOT NULL,
            head_hash BLOB NOT NULL CHECK (length(head_hash) = 32),
            signed_ms INTEGER NOT NULL,
            reason    TEXT NOT NULL,
            signature BLOB NOT NULL CHECK (length(signature) = 64)
        );
        CREATE TRIGGER checkpoints_append_only_update BEFORE UPDATE ON checkpoints
            BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
        CREATE TRIGGER checkpoints_append_only_delete BEFORE DELETE ON checkpoints
            BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;

        -- The trust bundle in force, whole, and exploded for lookups.
        CREATE TABLE trust (
            id          INTEGER PRIMARY KEY CHECK (id = 1),
            sequence    INTEGER NOT NULL,
            county_id   TEXT NOT NULL,
            site_name   TEXT NOT NULL,
            issued_ms   INTEGER NOT NULL,
            expires_ms  INTEGER NOT NULL,
            imported_ms INTEGER NOT NULL,
            file        BLOB NOT NULL
        );
        CREATE TABLE signing_keys (
            kid        INTEGER PRIMARY KEY,
            public_key TEXT NOT NULL,
            valid_from INTEGER NOT NULL,
            valid_to   INTEGER,
            status     TEXT NOT NULL CHECK (status IN ('active', 'retired', 'revoked'))
        );
        CREATE TABLE classes (
            id        INTEGER PRIMARY KEY,
            name      TEXT NOT NULL,
            start_day INTEGER NOT NULL,
            end_day   INTEGER NOT NULL,
            json      TEXT NOT NULL
        );
        CREATE TABLE roster (
            voucher_id INTEGER PRIMARY KEY,
            class_id   INTEGER NOT NULL,
            name       TEXT NOT NULL,
            id_masked  TEXT NOT NULL,
            category   TEXT
        );
        CREATE INDEX roster_class ON roster(class_id);
        CREATE TABLE revocations (
            voucher_id INTEGER PRIMARY KEY,
            revoked_ms INTEGER NOT NULL,
            reason     TEXT NOT NULL
        );

        -- Derived from events (rebuildable): who is signed in where.
        CREATE TABLE sessions (
            class_id      INTEGER NOT NULL,
            class_day     TEXT NOT NULL,
            session_index INTEGER NOT NULL,
            closes_ms     INTEGER NOT NULL,
            closed        INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (class_id, class_day, session_index)
        );
        CREATE INDEX sessions_open ON sessions(closes_ms) WHERE closed = 0;
        CREATE TABLE attendance (
            class_id      INTEGER NOT NULL,
            class_day     TEXT NOT NULL,
            session_index INTEGER NOT NULL,
            voucher_id    INTEGER NOT NULL,
            in_seq        INTEGER NOT NULL REFERENCES events(seq),
            in_ms         INTEGER NOT NULL,
            out_seq       INTEGER REFERENCES events(seq),
            out_ms        INTEGER,
            open_seq      INTEGER REFERENCES events(seq),
            PRIMARY KEY (class_id, class_day, session_index, voucher_id),
            FOREIGN KEY (class_id, class_day, session_index) REFERENCES sessions
        );
        """,
        """
        -- Sync with the county (migration 2): where to, and what the county has acknowledged.
        -- Only a receipt signed by the county root key moves acked_seq, and only forward.
        CREATE TABLE sync_state (
            id              INTEGER PRIMARY KEY CHECK (id = 1),
            county_url      TEXT,
            enrolled_ms     INTEGER,
            acked_seq       INTEGER NOT NULL DEFAULT 0 CHECK (acked_seq >= 0),
            receipt         TEXT,
            last_success_ms INTEGER,
            last_error      TEXT,
            last_error_ms   INTEGER,
            stopped         TEXT
        );
        INSERT INTO sync_state(id) VALUES (1);
        """,
        """
        -- Video recordings (migration 3): derived from the log's video events (rebuildable).
        CREATE TABLE videos (
            path      TEXT PRIMARY KEY,
            camera    TEXT NOT NULL,
            start_ms  INTEGER NOT NULL,
            end_ms    INTEGER NOT NULL CHECK (end_ms > start_ms),
            size      INTEGER NOT NULL CHECK (size >= 0),
            sha256    TEXT NOT NULL CHECK (length(sha256) = 64),
            seq       INTEGER NOT NULL REFERENCES events(seq)
        );
        CREATE INDEX videos_time ON videos(start_ms, end_ms);
        """,
        """
        -- Retention (migration 4). Every class the site has known, with its days: a class leaves
        -- the trust bundle when it ends, but its recordings are kept by its dates.
        CREATE TABLE class_periods (
            class_id  INTEGER PRIMARY KEY,
            start_day INTEGER NOT NULL,
            end_day   INTEGER NOT NULL
        );
        INSERT INTO class_periods(class_id, start_day, end_day) SELECT id, start_day, end_day FROM classes;
        CREATE TRIGGER class_periods_keep AFTER INSERT ON classes BEGIN
            INSERT INTO class_periods(class_id, start_day, end_day) VALUES (NEW.id, NEW.start_day, NEW.end_day)
            ON CONFLICT (class_id) DO UPDATE SET start_day = min(start_day, excluded.start_day),
                                                  end_day = max(end_day, excluded.end_day);
        END;
        -- Legal holds, derived from the log's hold and release events (rebuildable).
        CREATE TABLE holds (
            seq          INTEGER PRIMARY KEY REFERENCES events(seq),
            target       TEXT NOT NULL CHECK (target IN ('video', 'class')),
            ref          TEXT NOT NULL,
            note         TEXT NOT NULL,
            released_seq INTEGER REFERENCES events(seq)
        );
        -- Recordings deleted after their retention, derived from disposal events: a file listed
        -- here is unlinked (again, after a crash) and never registered as new.
        CREATE TABLE disposals (
            seq    INTEGER PRIMARY KEY REFERENCES events(seq),
            path   TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            size   INTEGER NOT NULL
        );
        CREATE INDEX disposals_path ON disposals(path);
        """,
        """
        -- Session ends and revoked trainees (migration 5). A session the instructor ended (E in the
        -- kiosk) keeps the moment in ended_ms: it is never reopened, and scans and manual entries
        -- for it are refused `session_ended`.
        ALTER TABLE sessions ADD COLUMN ended_ms INTEGER;
        -- A trust bundle's roster leaves out revoked vouchers: their trainees' names are kept here
        -- (from the roster held before), so a refusal can name who it was.
        CREATE TABLE revoked_roster (
            voucher_id INTEGER PRIMARY KEY,
            class_id   INTEGER NOT NULL,
            name       TEXT NOT NULL,
            id_masked  TEXT NOT NULL
        );
        """,
        """
        -- Reissued vouchers (migration 6): the earlier vouchers of the same person in the class,
        -- newest first, comma-separated, from the trust bundle's roster. A sign-out with the new
        -- voucher closes a sign-in made with the old one; reports count both as one trainee.
        ALTER TABLE roster ADD COLUMN replaces TEXT;
        """,
    ]
}

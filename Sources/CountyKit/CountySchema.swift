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
        """,
        """
        -- Sync (migration 2). A device is one site PC, known by its Ed25519 public key.
        CREATE TABLE devices (
            id            TEXT PRIMARY KEY,
            site_id       TEXT NOT NULL REFERENCES sites(id),
            public_key    TEXT NOT NULL UNIQUE,
            status        TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
            enrolled_ms   INTEGER NOT NULL,
            revoked_ms    INTEGER,
            revoke_reason TEXT,
            head_seq      INTEGER NOT NULL DEFAULT 0 CHECK (head_seq >= 0),
            head_hash     BLOB NOT NULL DEFAULT (zeroblob(32)) CHECK (length(head_hash) = 32),
            last_sync_ms  INTEGER,
            clock_offset_ms INTEGER
        );
        -- One-time enrollment codes, kept only as their SHA-256.
        CREATE TABLE enrollment_codes (
            code_hash  TEXT PRIMARY KEY,
            site_id    TEXT NOT NULL REFERENCES sites(id),
            created_ms INTEGER NOT NULL,
            expires_ms INTEGER NOT NULL,
            used_ms    INTEGER,
            device_id  TEXT
        );
        -- Every device's events exactly as received (body = the wire JSON), once each.
        CREATE TABLE events (
            device_id     TEXT NOT NULL REFERENCES devices(id),
            seq           INTEGER NOT NULL CHECK (seq >= 1),
            site_id       TEXT NOT NULL,
            kind          TEXT NOT NULL,
            direction     TEXT,
            voucher_id    INTEGER,
            class_id      INTEGER,
            class_day     TEXT,
            session_index INTEGER,
            flags         TEXT NOT NULL,
            wall_ms       INTEGER NOT NULL,
            hash          BLOB NOT NULL CHECK (length(hash) = 32),
            body          TEXT NOT NULL,
            received_ms   INTEGER NOT NULL,
            UNIQUE (device_id, seq)
        );
        CREATE INDEX events_class ON events(class_id, class_day);
        CREATE INDEX events_voucher ON events(voucher_id, class_day);
        CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
            BEGIN SELECT RAISE(ABORT, 'received events are append-only'); END;
        CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
            BEGIN SELECT RAISE(ABORT, 'received events are append-only'); END;
        -- The receipt given for each idempotency key, to give again on a retry.
        CREATE TABLE uploads (
            device_id       TEXT NOT NULL REFERENCES devices(id),
            idempotency_key TEXT NOT NULL,
            body_sha256     TEXT NOT NULL,
            receipt         TEXT NOT NULL,
            created_ms      INTEGER NOT NULL,
            PRIMARY KEY (device_id, idempotency_key)
        );
        -- The device clock against the county's at every sync.
        CREATE TABLE clock_readings (
            device_id TEXT NOT NULL REFERENCES devices(id),
            server_ms INTEGER NOT NULL,
            device_ms INTEGER NOT NULL,
            offset_ms INTEGER NOT NULL
        );
        -- The same voucher signed in at two sites at overlapping times.
        CREATE TABLE conflicts (
            voucher_id  INTEGER NOT NULL,
            class_day   TEXT NOT NULL,
            site_a      TEXT NOT NULL,
            site_b      TEXT NOT NULL,
            detected_ms INTEGER NOT NULL,
            detail      TEXT NOT NULL,
            UNIQUE (voucher_id, class_day, site_a, site_b)
        );
        -- The newest trust bundle made for each site, served to its devices.
        CREATE TABLE site_bundles (
            site_id      TEXT PRIMARY KEY REFERENCES sites(id),
            sequence     INTEGER NOT NULL,
            content_hash TEXT NOT NULL,
            issued_ms    INTEGER NOT NULL,
            expires_ms   INTEGER NOT NULL,
            file         BLOB NOT NULL
        );
        """,
        """
        -- The voucher loop's last steps (migration 3): one claim per voucher, then its payment,
        -- then the write-off (核销). A written-off voucher is never claimed again.
        CREATE TABLE claims (
            voucher_id     INTEGER PRIMARY KEY REFERENCES vouchers(id),
            class_id       INTEGER NOT NULL REFERENCES classes(id),
            trainee_ref    INTEGER NOT NULL,
            policy_id      TEXT NOT NULL,
            program        TEXT NOT NULL,
            trade          TEXT NOT NULL,
            level          INTEGER NOT NULL,
            year           INTEGER NOT NULL,
            amount_fen     INTEGER NOT NULL CHECK (amount_fen >= 0),
            detail         TEXT NOT NULL,
            claimed_ms     INTEGER NOT NULL,
            paid_ms        INTEGER,
            payment_ref    TEXT,
            written_off_ms INTEGER,
            CHECK ((paid_ms IS NULL) = (payment_ref IS NULL)),
            CHECK (written_off_ms IS NULL OR paid_ms IS NOT NULL)
        );
        CREATE INDEX claims_trainee ON claims(trainee_ref, year);
        CREATE TRIGGER claims_keep BEFORE DELETE ON claims
            BEGIN SELECT RAISE(ABORT, 'claims are kept'); END;
        CREATE TRIGGER claims_written_off_final BEFORE UPDATE ON claims WHEN OLD.written_off_ms IS NOT NULL
            BEGIN SELECT RAISE(ABORT, 'a written-off claim is final'); END;
        """,
        """
        -- County-side verification (migration 4). Why an attendance event is held apart: its
        -- QuarantineReason codes, comma-separated, fixed when it arrives (the row is append-only);
        -- NULL when it may be counted. A held-apart event is kept, shown, and never paid.
        ALTER TABLE events ADD COLUMN quarantine TEXT CHECK (quarantine IS NULL OR quarantine <> '');
        CREATE INDEX events_quarantined ON events(class_id) WHERE quarantine IS NOT NULL;
        """,
        """
        -- Evidence flags the county alone can set (migration 5). Where a device stands, as the
        -- county recorded it (NULL = unknown): given with the enrollment code, copied to the
        -- device when it enrolls, changed with `device locate`. A held record any of whose events
        -- came from a device standing elsewhere than its class is flagged `location`.
        ALTER TABLE devices ADD COLUMN location TEXT CHECK (location IS NULL OR location <> '');
        ALTER TABLE enrollment_codes ADD COLUMN location TEXT CHECK (location IS NULL OR location <> '');
        -- The same person's vouchers in other classes, looked up once per class for `overlap`.
        CREATE INDEX vouchers_trainee ON vouchers(trainee_ref);
        """,
        """
        -- What a claim paid for (migration 6): a training subsidy, or a certificate subsidy
        -- (certificate, special_certificate). The limits differ: a training subsidy never blocks
        -- a certificate subsidy; a certificate level is paid once in a lifetime.
        ALTER TABLE claims ADD COLUMN pays_for TEXT NOT NULL DEFAULT 'training'
            CHECK (pays_for IN ('training', 'certificate', 'special_certificate'));
        """,
        """
        -- Reissue (migration 7): a voucher may replace a revoked one of the same person in the same
        -- class (`voucher reissue`). `replaces` keeps the link on the new voucher; a voucher is
        -- replaced at most once. Still one live (unrevoked) voucher per person and class. SQLite
        -- cannot drop the old UNIQUE (class_id, trainee_ref), so the table is rebuilt, and claims,
        -- which refer to it, are rebuilt with it unchanged.
        CREATE TABLE vouchers_new (
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
            replaces      INTEGER UNIQUE REFERENCES vouchers_new(id) CHECK (replaces < id)
        );
        INSERT INTO vouchers_new(id, class_id, trainee_ref, name, id_masked, category, kid, valid_from, valid_to, flags, code,
                                 issued_ms, revoked_ms, revoke_reason)
            SELECT id, class_id, trainee_ref, name, id_masked, category, kid, valid_from, valid_to, flags, code,
                   issued_ms, revoked_ms, revoke_reason FROM vouchers;
        CREATE TEMP TABLE claims_kept AS SELECT * FROM claims;
        DROP TABLE claims;
        DROP TABLE vouchers;
        ALTER TABLE vouchers_new RENAME TO vouchers;
        CREATE INDEX vouchers_class ON vouchers(class_id);
        CREATE INDEX vouchers_trainee ON vouchers(trainee_ref);
        CREATE UNIQUE INDEX vouchers_one_live ON vouchers(class_id, trainee_ref) WHERE revoked_ms IS NULL;
        CREATE TABLE claims (
            voucher_id     INTEGER PRIMARY KEY REFERENCES vouchers(id),
            class_id       INTEGER NOT NULL REFERENCES classes(id),
            trainee_ref    INTEGER NOT NULL,
            policy_id      TEXT NOT NULL,
            program        TEXT NOT NULL,
            trade          TEXT NOT NULL,
            level          INTEGER NOT NULL,
            year           INTEGER NOT NULL,
            amount_fen     INTEGER NOT NULL CHECK (amount_fen >= 0),
            detail         TEXT NOT NULL,
            claimed_ms     INTEGER NOT NULL,
            paid_ms        INTEGER,
            payment_ref    TEXT,
            written_off_ms INTEGER,
            pays_for       TEXT NOT NULL DEFAULT 'training'
                CHECK (pays_for IN ('training', 'certificate', 'special_certificate')),
            CHECK ((paid_ms IS NULL) = (payment_ref IS NULL)),
            CHECK (written_off_ms IS NULL OR paid_ms IS NOT NULL)
        );
        INSERT INTO claims SELECT * FROM claims_kept;
        DROP TABLE temp.claims_kept;
        CREATE INDEX claims_trainee ON claims(trainee_ref, year);
        CREATE TRIGGER claims_keep BEFORE DELETE ON claims
            BEGIN SELECT RAISE(ABORT, 'claims are kept'); END;
        CREATE TRIGGER claims_written_off_final BEFORE UPDATE ON claims WHEN OLD.written_off_ms IS NOT NULL
            BEGIN SELECT RAISE(ABORT, 'a written-off claim is final'); END;
        """,
        """
        -- Restores (migration 8): a device restored from a backup states, in its signed `restored`
        -- event, the backup's last event (base_seq) and what the county held (county_seq). Events
        -- base_seq+1..county_seq stay as held; events the device made after county_seq before the
        -- restore, if any, are lost (the device's statement). A declared branch point, not a fork.
        CREATE TABLE restorations (
            device_id   TEXT NOT NULL,
            seq         INTEGER NOT NULL,
            base_seq    INTEGER NOT NULL,
            county_seq  INTEGER NOT NULL,
            wall_ms     INTEGER NOT NULL,
            received_ms INTEGER NOT NULL,
            PRIMARY KEY (device_id, seq)
        );
        """,
        """
        -- Province roll-up (migration 9): each voucher's province-wide pseudonym of its holder, an
        -- HMAC under the key the province hands every county (`province join`), so one person's
        -- claims in two counties can be found without any ID number leaving a county. A voucher
        -- issued before the county joined has no row until `province link` reads its roster again.
        CREATE TABLE province_refs (
            voucher_id   INTEGER PRIMARY KEY REFERENCES vouchers(id),
            province_ref INTEGER NOT NULL
        );
        CREATE INDEX province_refs_ref ON province_refs(province_ref);
        """,
    ]
}

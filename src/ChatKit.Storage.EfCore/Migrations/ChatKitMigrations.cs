namespace ChatKit.Storage.EfCore.Migrations;

/// <summary>
/// ChatKit's schema history. Written by hand (EF Core's design-time tooling is not used): each step matches
/// <c>ApplyChatKitModel</c>, and a step, once released, never changes; changes come as new steps.
/// </summary>
internal static class ChatKitMigrations
{
    public static readonly IReadOnlyList<SchemaMigration> All =
    [
        new(
            "0001_initial",
            Sqlite:
            [
                "CREATE TABLE chatkit_users (id TEXT NOT NULL PRIMARY KEY, display_name TEXT NOT NULL, last_seen_ms INTEGER NULL)",
                "CREATE TABLE chatkit_rooms (id TEXT NOT NULL PRIMARY KEY, kind INTEGER NOT NULL, name TEXT NOT NULL, visibility INTEGER NOT NULL, created_by TEXT NOT NULL, created_at_ms INTEGER NOT NULL, last_sequence INTEGER NOT NULL)",
                "CREATE INDEX ix_chatkit_rooms_public ON chatkit_rooms (visibility, kind, created_at_ms)",
                "CREATE TABLE chatkit_members (room_id TEXT NOT NULL, user_id TEXT NOT NULL, role INTEGER NOT NULL, joined_at_ms INTEGER NOT NULL, delivered_sequence INTEGER NOT NULL, read_sequence INTEGER NOT NULL, PRIMARY KEY (room_id, user_id))",
                "CREATE INDEX ix_chatkit_members_user ON chatkit_members (user_id, room_id)",
                "CREATE TABLE chatkit_messages (room_id TEXT NOT NULL, sequence INTEGER NOT NULL, client_message_id TEXT NOT NULL, sender_id TEXT NOT NULL, body TEXT NOT NULL, sent_at_ms INTEGER NOT NULL, PRIMARY KEY (room_id, sequence))",
                "CREATE UNIQUE INDEX ux_chatkit_messages_cmid ON chatkit_messages (room_id, client_message_id)",
                "CREATE INDEX ix_chatkit_messages_time ON chatkit_messages (room_id, sent_at_ms)",
            ],
            PostgreSql:
            [
                "CREATE TABLE chatkit_users (id varchar(128) NOT NULL PRIMARY KEY, display_name varchar(100) NOT NULL, last_seen_ms bigint NULL)",
                "CREATE TABLE chatkit_rooms (id varchar(64) NOT NULL PRIMARY KEY, kind integer NOT NULL, name varchar(100) NOT NULL, visibility integer NOT NULL, created_by varchar(128) NOT NULL, created_at_ms bigint NOT NULL, last_sequence bigint NOT NULL)",
                "CREATE INDEX ix_chatkit_rooms_public ON chatkit_rooms (visibility, kind, created_at_ms)",
                "CREATE TABLE chatkit_members (room_id varchar(64) NOT NULL, user_id varchar(128) NOT NULL, role integer NOT NULL, joined_at_ms bigint NOT NULL, delivered_sequence bigint NOT NULL, read_sequence bigint NOT NULL, PRIMARY KEY (room_id, user_id))",
                "CREATE INDEX ix_chatkit_members_user ON chatkit_members (user_id, room_id)",
                "CREATE TABLE chatkit_messages (room_id varchar(64) NOT NULL, sequence bigint NOT NULL, client_message_id varchar(64) NOT NULL, sender_id varchar(128) NOT NULL, body text NOT NULL, sent_at_ms bigint NOT NULL, PRIMARY KEY (room_id, sequence))",
                "CREATE UNIQUE INDEX ux_chatkit_messages_cmid ON chatkit_messages (room_id, client_message_id)",
                "CREATE INDEX ix_chatkit_messages_time ON chatkit_messages (room_id, sent_at_ms)",
            ]),

        // End-to-end encryption: rooms say whether they are encrypted (rooms made before are not), and the key
        // directory keeps each device's public keys. Key ids are uint32, stored as 64-bit integers.
        new(
            "0002_encryption",
            Sqlite:
            [
                "ALTER TABLE chatkit_rooms ADD COLUMN encrypted INTEGER NOT NULL DEFAULT 0",
                "CREATE TABLE chatkit_devices (user_id TEXT NOT NULL, device_id TEXT NOT NULL, signing_key BLOB NOT NULL, identity_key BLOB NOT NULL, identity_signature BLOB NOT NULL, signed_prekey_id INTEGER NOT NULL, signed_prekey BLOB NOT NULL, signed_prekey_signature BLOB NOT NULL, updated_at_ms INTEGER NOT NULL, PRIMARY KEY (user_id, device_id))",
                "CREATE TABLE chatkit_one_time_prekeys (user_id TEXT NOT NULL, device_id TEXT NOT NULL, key_id INTEGER NOT NULL, public_key BLOB NOT NULL, PRIMARY KEY (user_id, device_id, key_id))",
            ],
            PostgreSql:
            [
                "ALTER TABLE chatkit_rooms ADD COLUMN encrypted boolean NOT NULL DEFAULT false",
                "CREATE TABLE chatkit_devices (user_id varchar(128) NOT NULL, device_id varchar(64) NOT NULL, signing_key bytea NOT NULL, identity_key bytea NOT NULL, identity_signature bytea NOT NULL, signed_prekey_id bigint NOT NULL, signed_prekey bytea NOT NULL, signed_prekey_signature bytea NOT NULL, updated_at_ms bigint NOT NULL, PRIMARY KEY (user_id, device_id))",
                "CREATE TABLE chatkit_one_time_prekeys (user_id varchar(128) NOT NULL, device_id varchar(64) NOT NULL, key_id bigint NOT NULL, public_key bytea NOT NULL, PRIMARY KEY (user_id, device_id, key_id))",
            ]),

        // Every send moves its room's counter and its sender's read position, every receipt a read position: on
        // PostgreSQL such an update can stay on its row's page without touching the indexes (a HOT update) only if the
        // page has room, and pages are filled to the brim by default (in the Kafka benchmark 11 % of the members'
        // updates were HOT). Pages filled after this step keep 30 % free; a table already full gets the room as its
        // pages are rewritten (VACUUM FULL or pg_repack, when the operator chooses). SQLite has no such setting.
        new(
            "0003_room_for_updates",
            Sqlite: [],
            PostgreSql:
            [
                "ALTER TABLE chatkit_members SET (fillfactor = 70)",
                "ALTER TABLE chatkit_rooms SET (fillfactor = 70)",
            ]),
    ];
}

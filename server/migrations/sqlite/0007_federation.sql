-- Federation: this server's signing keys, what it remembers of other servers,
-- and the copies of chats hosted elsewhere that its users are in.

-- This server's ed25519 keys. The one with no `retired_at` signs; retired keys
-- stay published until `expires_at`, so signatures made just before a rotation
-- still verify.
create table server_keys (
    key_id text primary key,
    -- The 32-byte secret seed and the 32-byte public key.
    secret_key blob not null,
    public_key blob not null,
    created_at integer not null,
    retired_at integer,
    expires_at integer
);

-- Transaction ids of signed requests received, per origin, kept a little longer
-- than a signature's timestamp is accepted: a replay within that time is refused.
create table federation_received (
    origin text not null,
    transaction_id text not null,
    received_at integer not null,
    constraint federation_received_pkey primary key (origin, transaction_id)
);
create index federation_received_at_idx on federation_received (received_at);

-- What other servers said about their users (display name and the fields their
-- administrators let out), looked up when an address book names them or a chat
-- brings them.
create table remote_profiles (
    causeway_id text primary key,
    display_name text not null,
    -- The profile fields as JSON: [[field, value], ...].
    fields text not null,
    fetched_at integer not null
);

-- The delivery state of each other server: the panel's Federation page.
create table federation_peers (
    server_name text primary key,
    last_attempt_at integer,
    last_success_at integer,
    last_error text,
    last_error_at integer,
    -- Consecutive failures, for the backoff; 0 when the last attempt worked.
    failures integer not null default 0
);

-- The outbox. A chat's event log (`chat_events`) already holds every event in
-- order and durably, so the outbox is a cursor per destination and chat: the last
-- event and the read positions delivered there. A row exists while the
-- destination has members in the chat or has events still to receive.
create table federation_cursors (
    destination text not null,
    chat_id integer not null references chats (id) on delete cascade,
    -- The last event delivered; -1 when the chat itself was never sent there.
    delivered_seq integer not null default -1,
    -- `chats.reads_version` when read positions were last delivered.
    delivered_reads integer not null default 0,
    constraint federation_cursors_pkey primary key (destination, chat_id)
);
create index federation_cursors_chat_idx on federation_cursors (chat_id);

-- Read positions change without a chat event; this counter tells the outbox
-- that they did.
alter table chats add column reads_version integer not null default 0;
-- A chat hosted by another server: its name and the chat's id there. Null for
-- chats hosted here. This server keeps a copy of the chat (members, events,
-- messages, numbered by the host) for its own users in it.
alter table chats add column host text;
alter table chats add column host_chat_id integer;
create unique index chats_host_idx on chats (host, host_chat_id);

-- A file of a chat hosted elsewhere: its id on the host. Its bytes are fetched
-- from the host when someone here downloads it.
alter table files add column host_file_id integer;

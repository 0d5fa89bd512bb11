-- Files uploaded to chats. The bytes live in the blob store under the data folder,
-- named by their SHA-256, so the same content is stored once however often it is
-- sent; this table holds what the sender said about it and where it was sent.
create table files (
    -- autoincrement: an id is never reused, so a link to a file never leads to
    -- another one.
    id integer primary key autoincrement,
    chat_id integer not null references chats (id) on delete cascade,
    sha256 text not null,
    name text not null,
    size integer not null,
    media_type text not null,
    -- The sender's Causeway ID.
    uploaded_by text not null,
    created_at integer not null,
    -- The message that carries the file: set once, in the transaction that posts
    -- the message. Updating this row is what makes two sends of one file take
    -- turns (PostgreSQL row lock), so only one of them gets it.
    message_seq integer,
    constraint files_sha256_check check (length(sha256) = 64),
    constraint files_size_check check (size >= 0)
);
create index files_chat_idx on files (chat_id);
-- Which files use a blob: what a later clean-up of unused blobs asks.
create index files_sha256_idx on files (sha256);

-- The file a message carries, if any; a file goes with one message at most.
alter table messages add column file_id integer references files (id);
create unique index messages_file_id_key on messages (file_id);

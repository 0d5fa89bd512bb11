-- For chats hosted here: what the servers of people of other servers signed
-- for their actions (a send, an edit, adding someone, ...). The outbox passes
-- them on with the events, so that every member server can check that a
-- person of a third server really did what the event says, without having to
-- trust this server.
create table attestations (
    chat_id bigint not null references chats (id) on delete cascade,
    actor text not null,
    kind text not null,
    ref text not null,
    body_sha256 text not null default '',
    key_id text not null,
    signature text not null,
    constraint attestations_pkey primary key (chat_id, actor, kind, ref, body_sha256)
);

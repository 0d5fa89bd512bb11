-- Chats hosted by this server, their members and their event log. Members are
-- Causeway IDs (text): users of this server and of other servers alike, so that
-- federation needs no second kind of member.
create table chats (
    id integer primary key,
    kind text not null,
    title text not null default '',
    -- Direct chats: the two members' Causeway IDs, sorted and joined by a space,
    -- so that a pair of people has one direct chat. Null for group chats.
    direct_key text,
    created_by text not null,
    created_at integer not null,
    -- The sequence number of the chat's latest event; the next one gets +1.
    last_seq integer not null default 0,
    constraint chats_kind_check check (kind in ('direct', 'group')),
    constraint chats_direct_key unique (direct_key)
);

create table chat_members (
    chat_id integer not null references chats (id) on delete cascade,
    member text not null,
    role text not null,
    -- The member sees the chat's events from `joined_seq` on and has read up to `read_seq`.
    joined_seq integer not null,
    read_seq integer not null default 0,
    constraint chat_members_pkey primary key (chat_id, member),
    constraint chat_members_role_check check (role in ('owner', 'admin', 'member'))
);
create index chat_members_member_idx on chat_members (member);

-- Every event of a chat in sequence order: what a client catches up from.
create table chat_events (
    chat_id integer not null references chats (id) on delete cascade,
    seq integer not null,
    kind text not null,
    actor text not null,
    at integer not null,
    -- The message the event is about (posted, edited, deleted), if any.
    message_seq integer,
    -- The member a membership event is about (added, removed, new role), if any.
    subject text,
    -- More about it: the new role of `role_changed`.
    detail text,
    constraint chat_events_pkey primary key (chat_id, seq)
);

-- Messages as they stand now, after edits and deletions. `seq` is the sequence
-- number of the event that posted the message.
create table messages (
    chat_id integer not null references chats (id) on delete cascade,
    seq integer not null,
    sender text not null,
    -- The sender's idempotency key: a retried send finds its first copy.
    client_id text not null,
    body text not null,
    reply_to integer,
    created_at integer not null,
    edited_at integer,
    deleted_at integer,
    -- Lowercased by the server (Unicode-aware) for search within the chat.
    search_text text not null,
    constraint messages_pkey primary key (chat_id, seq),
    constraint messages_client_id_key unique (chat_id, sender, client_id)
);

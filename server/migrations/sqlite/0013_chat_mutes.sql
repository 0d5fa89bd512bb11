-- A member's choice to mute a chat: no notifications and no count in the
-- unread total, except for messages that mention them. Kept apart from
-- chat_members, which a replica rewrites whenever its host says so.
create table chat_mutes (
    chat_id integer not null references chats (id) on delete cascade,
    member text not null,
    constraint chat_mutes_pkey primary key (chat_id, member)
);

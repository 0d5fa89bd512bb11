-- What this server asked other servers to do for its own users in chats they
-- host (a send, an edit, adding someone, ...). A host's update may attribute an
-- event or a message to one of this server's users only when it matches a row
-- here: a host cannot speak for people of this server.
create table forwarded_actions (
    host text not null,
    -- The chat's id on its host; 0 for opening a direct chat (not known yet).
    host_chat_id bigint not null,
    actor text not null,
    -- send, edit, delete, leave, add, remove, role, direct
    kind text not null,
    -- send: the client_id; edit and delete: the message's number; add, remove,
    -- role and direct: the other person; leave: ''.
    ref text not null,
    -- send and edit: the SHA-256 (hex) of the text sent; '' otherwise.
    body_sha256 text not null default '',
    at bigint not null,
    constraint forwarded_actions_pkey primary key (host, host_chat_id, actor, kind, ref, body_sha256)
);

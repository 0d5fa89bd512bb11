-- Groups with their rights and members, address books, settings edited in the
-- control panel, the audit log and sign-in throttling.

-- `builtin` marks the two groups every server has: 'no_group' (Users without a
-- group: every local user in no other group) and 'federated' (Federated Users:
-- every user of another server). Their membership is implicit, never stored.
create table groups (
    id integer primary key,
    name text not null,
    builtin text,
    created_at integer not null,
    constraint groups_name_key unique (name),
    constraint groups_builtin_key unique (builtin),
    constraint groups_builtin_check check (builtin is null or builtin in ('no_group', 'federated'))
);

-- Rights are stored by their stable snake_case name (app::types::Right).
create table group_rights (
    group_id integer not null references groups (id) on delete cascade,
    right_name text not null,
    primary key (group_id, right_name)
);

create table group_members (
    group_id integer not null references groups (id) on delete cascade,
    user_id integer not null references users (id) on delete cascade,
    primary key (group_id, user_id)
);
create index group_members_user_id_idx on group_members (user_id);

-- One table for both kinds of address book: a group's (group_id set) and a
-- user's personal one (owner_id set). `position` orders the entries.
create table address_book_entries (
    id integer primary key,
    group_id integer references groups (id) on delete cascade,
    owner_id integer references users (id) on delete cascade,
    causeway_id text not null,
    display_name text not null default '',
    position integer not null,
    constraint address_book_owner_check check ((group_id is null) <> (owner_id is null)),
    constraint address_book_group_entry_key unique (group_id, causeway_id),
    constraint address_book_personal_entry_key unique (owner_id, causeway_id)
);

-- Control-panel settings, one JSON document per section.
create table settings (
    section text primary key,
    value text not null
);

create table audit_log (
    id integer primary key,
    at integer not null,
    actor_id integer,
    actor text,
    address text,
    action text not null,
    target text,
    detail text
);
create index audit_log_action_idx on audit_log (action, id);

-- Sign-in throttling. Keys are 'account:<login>' (consecutive failures, for
-- existing and unknown logins alike, so a lock reveals nothing) and
-- 'address:<ip>' (failures within the current window). A row with
-- `locked_until` in the future refuses sign-in until then.
create table sign_in_throttle (
    key text primary key,
    failures integer not null,
    window_started_at integer not null,
    locked_until integer
);

insert into groups (name, builtin, created_at) values ('Users without a group', 'no_group', 0);
insert into groups (name, builtin, created_at) values ('Federated Users', 'federated', 0);

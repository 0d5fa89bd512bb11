-- Accounts of this server ("Registry" mode) and their browser sessions.
-- Times are Unix milliseconds (UTC) in an integer, the same on both backends.

create table users (
    id integer primary key,
    login text not null,
    display_name text not null,
    first_name text not null default '',
    last_name text not null default '',
    email text not null default '',
    phone text not null default '',
    company text not null default '',
    department text not null default '',
    position text not null default '',
    -- argon2id PHC string; never leaves the server.
    password_hash text not null,
    is_active boolean not null default true,
    is_admin boolean not null default false,
    created_at integer not null,
    last_login_at integer,
    constraint users_login_key unique (login)
);

-- tower-sessions records. `user_id` is copied out of the record so that every
-- session of a user can be ended at once (deactivation, password change).
create table sessions (
    id text primary key,
    user_id integer references users (id) on delete cascade,
    data blob not null,
    expires_at integer not null
);

create index sessions_user_id_idx on sessions (user_id);
create index sessions_expires_at_idx on sessions (expires_at);

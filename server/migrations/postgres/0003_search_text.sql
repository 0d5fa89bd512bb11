-- Case-insensitive search, the same on both backends: the server stores a
-- lowercased copy of the searchable text (Rust's Unicode lowercasing) and
-- searches that (SQLite's lower() folds A–Z only; see the SQLite migration).
alter table users add column search_text text not null default '';
update users set search_text = lower(login || ' ' || display_name || ' ' || first_name || ' ' || last_name || ' ' || email);

alter table audit_log add column search_text text not null default '';
update audit_log set search_text = lower(coalesce(actor, '') || ' ' || coalesce(target, '') || ' ' || coalesce(detail, '') || ' ' || coalesce(address, ''));

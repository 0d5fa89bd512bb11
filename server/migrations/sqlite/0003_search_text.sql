-- Case-insensitive search that works beyond ASCII: SQLite's lower() folds A–Z
-- only, so the server stores a lowercased copy of the searchable text (Rust's
-- Unicode lowercasing) and searches that. Rows written before this migration get
-- the ASCII folding of lower(); every write from now on refreshes the column.
alter table users add column search_text text not null default '';
update users set search_text = lower(login || ' ' || display_name || ' ' || first_name || ' ' || last_name || ' ' || email);

alter table audit_log add column search_text text not null default '';
update audit_log set search_text = lower(coalesce(actor, '') || ' ' || coalesce(target, '') || ' ' || coalesce(detail, '') || ' ' || coalesce(address, ''));

-- Message search finds files by name too. As for messages, the server stores a
-- lowercased copy of the name (Rust's Unicode lowercasing) and searches that;
-- files recorded before this migration get lower()'s folding.
alter table files add column search_name text not null default '';
update files set search_name = lower(name);

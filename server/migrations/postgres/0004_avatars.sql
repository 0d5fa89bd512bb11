-- A user's photo: the name of a content-addressed file under {files}/avatars
-- (`<sha256>.<png|jpg|webp>`), or null for none.
alter table users add column avatar text;

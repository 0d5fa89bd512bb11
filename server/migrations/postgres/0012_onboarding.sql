-- Onboarding (a new server works without hand-made address books or rights).
--
-- `members_see_each_other`: a group's members find each other in their address
-- books without an entry per person. Existing groups keep the address books
-- their administrator made (off); "Users without a group" and new groups have
-- it on.
alter table groups add column members_see_each_other boolean not null default false;
update groups set members_see_each_other = true where builtin = 'no_group';

-- A new server (no user yet) starts with rights that make files and the
-- personal address book work: "Users without a group" may send and download
-- files and edit their address book; "Federated Users" may download files but
-- not send them. A server that already has users keeps the rights it has.
insert into group_rights (group_id, right_name)
    select id, 'send_files' from groups
    where builtin = 'no_group' and not exists (select 1 from users);
insert into group_rights (group_id, right_name)
    select id, 'download_files' from groups
    where builtin = 'no_group' and not exists (select 1 from users);
insert into group_rights (group_id, right_name)
    select id, 'edit_address_book' from groups
    where builtin = 'no_group' and not exists (select 1 from users);
insert into group_rights (group_id, right_name)
    select id, 'download_files' from groups
    where builtin = 'federated' and not exists (select 1 from users);

-- Sign-in attempts in flight per counter: reserved before the password is
-- checked, so that parallel guesses cannot all pass the lock check, and given
-- back when the check is done. Attempts still pending after a minute (a crash
-- mid-check) no longer count.
alter table sign_in_throttle add column pending bigint not null default 0;
alter table sign_in_throttle add column pending_at bigint not null default 0;

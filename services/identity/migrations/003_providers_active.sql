-- identity 003: an organisation's account is active from registration; the organisation itself is approved
-- or rejected in the providers service (organisations.status). Accounts left pending become active.
UPDATE users SET status = 'active' WHERE role = 'provider' AND status = 'pending';

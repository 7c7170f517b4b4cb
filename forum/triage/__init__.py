"""Staff screens: the triage inbox, bulk actions, boards, tags, owners, priorities, audit trail,
votes on behalf of customers, saved views, and CSV import/export."""

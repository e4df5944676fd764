"""Organizations, users, memberships with roles, API keys, web sessions: who acts for which tenant."""

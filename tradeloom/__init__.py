"""Tradeloom runtime shell: settings, database, tenancy, auth, errors, jobs, outbox, web layout."""

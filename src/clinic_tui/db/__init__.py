"""Database access: the embedded server, engines and sessions, the migration runner."""

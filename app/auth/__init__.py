"""Authentication and the access rules every route declares."""

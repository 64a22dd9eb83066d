"""Services: take a session, do one piece of domain work, flush; the caller commits."""

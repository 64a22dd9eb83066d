"""Register the sign-in blueprint, which lives with the rest of authentication in app.auth."""

from app.auth.views import bp

__all__ = ["bp"]

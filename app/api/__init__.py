"""The read-only JSON API's description (OpenAPI 3.1); the views live in ``app.views.api``."""

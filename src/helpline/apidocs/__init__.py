"""Offline API documentation: Swagger UI and ReDoc served from installed packages, and a sound OpenAPI document."""

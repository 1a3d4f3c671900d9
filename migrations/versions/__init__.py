"""Alembic revision scripts (a package so that an installed wheel carries them)."""

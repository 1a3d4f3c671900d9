"""The store: SQLAlchemy tables (``models.tables``), engines and sessions (``models.db``),
repositories that never commit (``datasets``, ``registry``, ``jobs``, ``schedules``), the
artifact store (``artifacts``), domain errors (``errors``) and settings (``settings``)."""

"""Celery tasks of the sales-force app."""

"""The HTTP side of pastdue: a FastAPI application built around one :class:`~pastdue.bootstrap.App`."""

from pastdue.web.app import create_app

__all__ = ["create_app"]

"""The customer portal: what one customer sees and does through the link in a notice."""

from pastdue.web.portal.routes import portal_router

__all__ = ["portal_router"]

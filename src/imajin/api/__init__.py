"""The HTTP layer: app factory, routers, auth, error mapping. Nothing below imports it."""

from imajin.api.app import create_app

__all__ = ["create_app"]

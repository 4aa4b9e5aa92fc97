"""The HTTP side: the aiohttp app, scenario selection and the player."""

from .app import create_app

__all__ = ["create_app"]

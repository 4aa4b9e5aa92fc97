"""The HTTP side: the aiohttp app (`app.create_app`), scenario selection and the player."""

"""The HTTP server: the JSON API (`api`) next to the Gradio chat, in one app run by uvicorn (`app`)."""

from .app import make_app, serve

__all__ = ["make_app", "serve"]

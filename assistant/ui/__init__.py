"""The chat: a Gradio page (`app`), its corpus tab (`corpus_tab`), its HTML (`render`) and the guard that
keeps its private events to the page (`server`)."""

from .app import build, launch_options
from .corpus_tab import IndexJob

__all__ = ["IndexJob", "build", "launch_options"]

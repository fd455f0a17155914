"""Briefing assistant: answers questions about a folder of news articles, citing exact passages."""

import os

# Private by default: nothing leaves the machine, no model is fetched from a hub at run time.
for _var, _value in {
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_var, _value)

from .core import Assistant  # noqa: E402
from .errors import InvalidQuestion  # noqa: E402
from .settings import Settings  # noqa: E402

__all__ = ["Assistant", "InvalidQuestion", "Settings"]

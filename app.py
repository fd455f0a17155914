"""Start the chat: `python app.py` (same as `briefing serve`). Binds 127.0.0.1 unless BRIEFING_HOST says."""

from assistant.settings import Settings
from assistant.ui import launch

if __name__ == "__main__":
    launch(Settings())

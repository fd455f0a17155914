"""Start the chat and the API: `python app.py` (same as `briefing serve`). Binds 127.0.0.1 unless
BRIEFING_HOST says."""

from assistant.settings import Settings
from assistant.web import serve

if __name__ == "__main__":
    serve(Settings())

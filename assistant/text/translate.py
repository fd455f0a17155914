"""Offline English↔Spanish translation with Apertium, kept warm in one long-running pipeline, that keeps
names.

Starting `apertium` costs ~150 ms a call; the null-flush mode (-z) keeps the pipeline up and answers a
question in a few ms. Any failure turns translation off for the question, never the answer.

Apertium translates every word its dictionary knows, names included ("Marco Rubio" -> "Blond Frame",
"Trump" -> "Triunfo"). Before a text goes in, `names.protect` swaps what must come out unchanged (names,
acronyms, numbers) and the glossary's terms for placeholder words Apertium does not know, which it leaves
where they stand; they are put back, as written or as the glossary renders them, afterwards."""

from __future__ import annotations

import logging
import os
import re
import select
import shutil
import subprocess
import threading
from collections.abc import Callable
from functools import lru_cache

from .names import protect

log = logging.getLogger(__name__)

_MODE_FILE = "/usr/share/apertium/modes/{pair}.mode"
_STREAM_SPECIALS = re.compile(r"([\\\[\]^$/@<>{}])")
_TIMEOUT_S = 5.0
CACHE_SIZE = 4096  # masked texts translated once: names asked about and quotes recur across questions


def available(pair: str = "eng-spa") -> bool:
    return shutil.which("apertium") is not None and os.path.exists(_MODE_FILE.format(pair=pair))


class Translator:
    """Translate short texts through a persistent Apertium pipeline (thread-safe)."""

    def __init__(self, pair: str = "eng-spa") -> None:
        self.pair = pair
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        # a failure raises, so it is never remembered
        self._remembered = lru_cache(maxsize=CACHE_SIZE)(self._translate)

    def __call__(self, text: str, keep: Callable[[str], bool] | None = None) -> str | None:
        """The translation, or None when Apertium is missing or fails. `keep`: for English text, whether a
        capitalised word is a name to keep (the articles hold it) rather than a word to translate."""
        if not text.strip() or not available(self.pair):
            return None
        masked, restore = protect(text, self.pair, keep)
        with self._lock:
            try:
                return restore(self._remembered(masked))
            except (OSError, TimeoutError, ValueError) as exc:
                log.warning("apertium failed (%s); searching without translation", exc)
                self.close()
                return None

    def _translate(self, text: str) -> str:
        proc = self._pipeline()
        # Newlines would split the stream; a trailing blank before \0 makes every stage flush. A \0 in the
        # text would end it early and put the pipeline a reply behind: each later question would get the
        # translation of the one before it (another user's, in the chat).
        line = _STREAM_SPECIALS.sub(r"\\\1", " ".join(text.replace("\0", " ").split()))
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(line.encode() + b" \0")
        proc.stdin.flush()
        out = b""
        while not out.endswith(b"\0"):
            ready, _, _ = select.select([proc.stdout], [], [], _TIMEOUT_S)
            chunk = os.read(proc.stdout.fileno(), 65536) if ready else b""
            if not chunk:
                raise TimeoutError("no answer from apertium")
            out += chunk
        if out.count(b"\0") != 1:
            raise ValueError("apertium is out of step with its input")
        return re.sub(r"\\(.)", r"\1", out.rstrip(b"\0").decode()).strip()

    def _pipeline(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            mode = subprocess.run(
                ["apertium-wblank-mode", "-z", _MODE_FILE.format(pair=self.pair)],
                capture_output=True,
                text=True,
                check=True,
                timeout=_TIMEOUT_S,
            ).stdout.strip()
            # $1: generator flags (-n: no unknown-word marks, as `apertium -u`); $2: tagger flags.
            command = mode.replace("$1", "-n").replace("$2", "")
            self._proc = subprocess.Popen(
                ["bash", "-c", command],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        return self._proc

    def close(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def __del__(self) -> None:
        self.close()

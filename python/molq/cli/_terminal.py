"""A full-screen terminal session that always gives the terminal back as it found it.

Plain ANSI/VT100 sequences only (alternate screen, cursor home, erase), which
every terminal emulator and tmux/screen understand, including over SSH.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from typing import Any, TextIO

_ENTER = "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J"  # alternate screen, hide cursor, clear
_LEAVE = "\x1b[?25h\x1b[?1049l"  # show cursor, back to the normal screen


class _Terminated(Exception):
    """SIGTERM while the screen is up: unwind so the terminal is restored."""


class Screen:
    """``with Screen() as s: s.draw(lines); key = s.key(0.5)``.

    Keys are read from stdin in cbreak mode (one key at a time, no echo;
    Ctrl-C still raises KeyboardInterrupt). The saved termios settings are put
    back on exit, whatever ends the session.
    """

    def __init__(self, out: TextIO | None = None, inp: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.inp = inp or sys.stdin
        self._fd: int | None = None
        self._saved: Any = None
        self._handlers: dict[int, Any] = {}

    def __enter__(self) -> Screen:
        try:
            if self.inp.isatty():
                import termios  # deferred: terminal control only for a live screen

                self._fd = self.inp.fileno()
                self._saved = termios.tcgetattr(self._fd)
        except (OSError, ValueError, AttributeError, ImportError):
            self._fd = None  # no keyboard: q does not work, Ctrl-C still does
        for name, handler in (("SIGTERM", _raise_terminated), ("SIGTSTP", self._suspend)):
            signum = getattr(signal, name, None)
            if signum is not None:
                try:
                    self._handlers[signum] = signal.signal(signum, handler)
                except ValueError:  # not the main thread
                    pass
        self._take()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            self._give_back()
        finally:
            for signum, handler in self._handlers.items():
                signal.signal(signum, handler)
        if exc_type is _Terminated:
            raise SystemExit(143)  # 128 + SIGTERM, after the terminal is restored

    def _take(self) -> None:
        if self._fd is not None:
            import tty  # deferred: terminal control only for a live screen

            tty.setcbreak(self._fd)
        self.out.write(_ENTER)
        self.out.flush()

    def _give_back(self) -> None:
        try:
            self.out.write(_LEAVE)
            self.out.flush()
        finally:
            if self._saved is not None and self._fd is not None:
                import termios  # deferred: terminal control only for a live screen

                termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)

    def _suspend(self, signum: int, frame: Any) -> None:
        """Ctrl-Z: give the shell a clean terminal, stop, and take it back on ``fg``."""
        self._give_back()
        signal.signal(signal.SIGTSTP, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTSTP)
        # Execution resumes here after SIGCONT; the next draw repaints everything.
        signal.signal(signal.SIGTSTP, self._suspend)
        self._take()

    def size(self) -> tuple[int, int]:
        try:
            size = os.get_terminal_size(self.out.fileno())
            return size.columns, size.lines
        except (OSError, ValueError, AttributeError):
            return 80, 24

    def draw(self, lines: list[str]) -> None:
        """Overwrite the screen in place (no clear, so no flicker)."""
        parts = ["\x1b[H"]
        for i, line in enumerate(lines):
            parts.append(line)
            parts.append("\x1b[K")
            if i < len(lines) - 1:
                parts.append("\r\n")
        parts.append("\x1b[J")
        self.out.write("".join(parts))
        self.out.flush()

    def key(self, timeout: float) -> str | None:
        """A key pressed within ``timeout`` seconds (None: no key, or no keyboard)."""
        import select  # deferred: terminal control only for a live screen

        if self._fd is None:
            time.sleep(max(0.0, timeout))
            return None
        ready, _, _ = select.select([self._fd], [], [], max(0.0, timeout))
        if not ready:
            return None
        data = os.read(self._fd, 64)
        return data.decode("utf-8", "replace") if data else None


def _raise_terminated(signum: int, frame: Any) -> None:
    raise _Terminated()

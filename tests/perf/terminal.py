"""Run clinic-tui in a pseudo-terminal and read its screen, as a person would see it."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import time
from collections.abc import Sequence

import pyte


class Terminal:
    def __init__(
        self, command: Sequence[str], *, env: dict[str, str], size: tuple[int, int] = (100, 30)
    ) -> None:
        columns, lines = size
        self.screen = pyte.Screen(columns, lines)
        self.stream = pyte.ByteStream(self.screen)
        self.master, slave = pty.openpty()
        os.set_blocking(self.master, False)
        import fcntl
        import struct
        import termios

        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            list(command),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**env, "TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(lines)},
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def pump(self, timeout: float = 0.01) -> None:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return
        try:
            data = os.read(self.master, 65536)
        except OSError:
            return
        self.stream.feed(data)

    def wait_for(self, needle: str, timeout: float = 20.0) -> float:
        """Seconds since launch when `needle` first appeared on screen."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            self.pump()
            if needle in self.text():
                return time.perf_counter() - self.started
            if self.process.poll() is not None:
                self.pump()
                raise RuntimeError(f"exited early:\n{self.text()}")
        raise TimeoutError(f"{needle!r} not on screen:\n{self.text()}")

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        os.close(self.master)

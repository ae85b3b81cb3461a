"""Servers under benchmark, each in its own child process (so that the clients measuring
them never share a GIL with them).

``ServerProcess`` starts a command, waits, with a time limit, for the line it prints once it
accepts calls, and always stops it (SIGTERM, then SIGKILL) when its ``with`` block ends.
"""

from __future__ import annotations

import queue
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Final

from turnwise.errors import DeadlineExceeded, FailedPrecondition

__all__ = ["LOCALHOST", "ServerProcess"]

LOCALHOST: Final = "127.0.0.1"
_STOP_TIMEOUT_S: Final = 15.0
_LOG_TAIL_CHARS: Final = 2000


class ServerProcess:
    """``argv`` run as a child process whose stderr goes to ``log_path``.

    Entering the ``with`` block starts it; ``wait_ready`` returns the ``127.0.0.1:PORT`` it
    printed after ``ready_prefix``; leaving the block stops it, whatever happened inside.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        ready_prefix: str,
        log_path: Path,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self._argv = list(argv)
        self._ready_prefix = ready_prefix
        self._log_path = log_path
        self._env = dict(env) if env is not None else None
        self._cwd = cwd
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._proc: subprocess.Popen[str] | None = None
        self._log: IO[str] | None = None
        self._reader: threading.Thread | None = None

    def __enter__(self) -> ServerProcess:
        self._log = open(self._log_path, "w", encoding="utf-8")  # closed in stop()
        try:
            self._proc = subprocess.Popen(
                self._argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=self._log,
                text=True,
                env=self._env,
                cwd=self._cwd,
            )
        except BaseException:
            self._log.close()
            raise
        self._reader = threading.Thread(
            target=self._read_stdout, name=f"{self.name}-stdout", daemon=True
        )
        self._reader.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def wait_ready(self, timeout_s: float) -> str:
        """The address the server printed after ``ready_prefix``, waiting at most
        ``timeout_s``; DeadlineExceeded or FailedPrecondition (with its output) otherwise."""
        deadline = time.monotonic() + timeout_s
        seen: list[str] = []
        while True:
            remaining = deadline - time.monotonic()
            try:
                if remaining <= 0:
                    raise queue.Empty
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                raise DeadlineExceeded(
                    self._field,
                    f"did not print {self._ready_prefix!r} within {timeout_s:.0f} s; "
                    f"{self._output(seen)}",
                ) from None
            if line is None:
                code = self._process.wait(timeout=_STOP_TIMEOUT_S)
                raise FailedPrecondition(
                    self._field,
                    f"exited with code {code} before it was ready; {self._output(seen)}",
                )
            seen.append(line)
            if line.startswith(self._ready_prefix):
                return self._address(line[len(self._ready_prefix) :], seen)

    def stop(self) -> None:
        """Stop the server: SIGTERM, then SIGKILL if it is still running after 15 s."""
        try:
            if self._proc is not None and self._proc.poll() is None:
                self._proc.terminate()
                try:
                    self._proc.wait(timeout=_STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait(timeout=_STOP_TIMEOUT_S)
        finally:
            if self._reader is not None:
                self._reader.join(timeout=_STOP_TIMEOUT_S)
            if self._proc is not None and self._proc.stdout is not None:
                self._proc.stdout.close()
            if self._log is not None:
                self._log.close()

    @property
    def running(self) -> bool:
        """Whether the server process is started and has not exited."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def _field(self) -> str:
        return f"benchmark server {self.name!r}"

    @property
    def _process(self) -> subprocess.Popen[str]:
        if self._proc is None:
            raise FailedPrecondition(self._field, "is not started; use it in a with block")
        return self._proc

    def _read_stdout(self) -> None:
        """Queue each stdout line until EOF (then None), so the pipe never fills up."""
        stdout = self._process.stdout
        if stdout is not None:
            for line in stdout:
                self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def _address(self, rest: str, seen: list[str]) -> str:
        address = rest.split()[0] if rest.split() else ""
        host, _, port = address.rpartition(":")
        if host != LOCALHOST or not port.isdigit():
            raise FailedPrecondition(
                self._field, f"must listen on {LOCALHOST}:PORT, got {rest!r}; {self._output(seen)}"
            )
        return address

    def _output(self, seen: list[str]) -> str:
        try:
            log = self._log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            log = ""
        stdout = " | ".join(seen) or "(nothing)"
        command = " ".join(self._argv)
        return f"command: {command}; stdout: {stdout}; stderr tail: {log[-_LOG_TAIL_CHARS:]}"

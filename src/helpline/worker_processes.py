"""`helpline serve --worker-processes M`: the server supervises M `helpline worker` child processes.

Python runs one thread of Python at a time per process, so the workers' CPU work only runs beside the
requests' on a second core when it is in another process. The children inherit the environment (the same
settings), are restarted when they exit unexpectedly (with a growing pause, so a crash loop does not spin),
end with the parent on Linux (`PR_SET_PDEATHSIG`), and on shutdown get SIGTERM: each finishes its batch
in progress and exits (`helpline worker`); one that does not within `stop_timeout` is killed, and the rows
it held are taken again when their lease runs out.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
RESTART_PAUSE_MAX = 30.0


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: a killed `serve` must not leave workers behind.
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class WorkerProcesses:
    def __init__(self, count: int, *, stop_timeout: float = 30.0, command: list[str] | None = None) -> None:
        self.count = count
        self.stop_timeout = stop_timeout
        self.command = command or [sys.executable, "-m", "helpline", "worker"]
        self.children: list[subprocess.Popen[bytes]] = []
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._supervisor: threading.Thread | None = None

    def start(self) -> None:
        with self._lock:
            self.children = [self._spawn() for _ in range(self.count)]
        self._supervisor = threading.Thread(target=self._supervise, name="helpline-worker-supervisor", daemon=True)
        self._supervisor.start()
        log.info("started %d worker processes: %s", self.count, [p.pid for p in self.children])

    def _spawn(self) -> subprocess.Popen[bytes]:
        preexec: Callable[[], None] | None = _die_with_parent if sys.platform == "linux" else None
        return subprocess.Popen(self.command, env=os.environ.copy(), preexec_fn=preexec)  # noqa: S603

    def _supervise(self) -> None:
        pauses = [1.0] * self.count
        while not self._stopping.wait(0.5):
            with self._lock:
                for index, child in enumerate(self.children):
                    code = child.poll()
                    if code is None or self._stopping.is_set():
                        continue
                    log.error(
                        "worker process %s exited with %s; restarting it in %.0fs", child.pid, code, pauses[index]
                    )
                    if self._stopping.wait(pauses[index]):
                        return
                    pauses[index] = min(RESTART_PAUSE_MAX, pauses[index] * 2)
                    self.children[index] = self._spawn()

    def stop(self) -> None:
        """SIGTERM every child, wait up to `stop_timeout` for them to finish their batch, kill the rest."""
        self._stopping.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=RESTART_PAUSE_MAX + 5)
        with self._lock:
            children = list(self.children)
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("worker process %s did not stop in %ss; killing it", child.pid, self.stop_timeout)
                child.kill()
                child.wait()

"""One listening socket per API process (``SO_REUSEPORT``), so the kernel spreads connections.

uvicorn's ``Multiprocess`` hands every API process the same listening socket; whichever event
loop wakes first accepts every pending connection (the loop accepts until none is left), so a
burst of keep-alive clients often lands on one process while the other idles. Measured with 2
processes and 32 connections of bench/api_load.py: the processes' CPU split 100/0 in one run and
66/34 in another, so throughput was that of about one core. Here process ``i`` listens on its
own socket ``i``, all bound to the same port with ``SO_REUSEPORT``: the kernel assigns each new
connection to one socket by its address hash, about evenly. A process that dies is replaced on
the same socket (connections assigned to it wait in its queue meanwhile); SIGTTIN/SIGTTOU,
which would add a process without a socket or leave a socket without a process, are refused.
Where the platform has no ``SO_REUSEPORT`` the caller keeps uvicorn's shared socket.
"""

from __future__ import annotations

import logging
import socket

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors import Multiprocess
from uvicorn.supervisors.multiprocess import Process

logger = logging.getLogger(__name__)


def reuse_port_supported() -> bool:
    """Whether this platform can bind several listening sockets to one port."""
    return hasattr(socket, "SO_REUSEPORT")


def reuse_port_sockets(config: Config, count: int) -> list[socket.socket]:
    """COUNT listening TCP sockets on ``config.host:config.port``, sharing it by SO_REUSEPORT."""
    if config.port == 0:  # each socket would get another ephemeral port
        raise ValueError("sockets sharing a port need a fixed port, not 0")
    family = socket.AF_INET6 if config.host and ":" in config.host else socket.AF_INET
    sockets = []
    for _ in range(count):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((config.host, config.port))
        sock.listen(config.backlog)
        sock.set_inheritable(True)
        sockets.append(sock)
    return sockets


class SocketPerProcess(Multiprocess):
    """``Multiprocess`` where API process ``i`` serves ``sockets[i]`` alone."""

    def __init__(self, config: Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets)
        self.processes_num = len(sockets)

    def _process(self, index: int) -> Process:
        process = Process(self.config, [self.sockets[index]])
        process.start()
        return process

    def init_processes(self) -> None:
        """Start one process per socket."""
        self.processes = [self._process(i) for i in range(self.processes_num)]

    def keep_subprocess_alive(self) -> None:
        """Replace a dead (or hung) process with a new one on the same socket."""
        for index, process in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()
            process.join()
            if process.exitcode == STARTUP_FAILURE:  # the app cannot start: neither can a new one
                logger.error("API process failed to start; stopping", extra={"pid": process.pid})
                self.should_exit.set()
            if self.should_exit.is_set():
                return
            logger.info("API process died; restarting it", extra={"pid": process.pid})
            self.processes[index] = self._process(index)

    def restart_all(self) -> None:
        """SIGHUP: replace every process in turn, each new one on its predecessor's socket."""
        for index, old in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new = self._process(index)
            if not new.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit):
                new.kill()
                new.join()
                logger.error("new API process not ready in time; restart aborted")
                return
            old.terminate()
            old.join()
            self.processes[index] = new

    def handle_ttin(self) -> None:
        """Refused: the number of processes is the number of sockets, fixed at start."""
        logger.warning("SIGTTIN ignored: restart with another --processes instead")

    def handle_ttou(self) -> None:
        """Refused, as SIGTTIN is."""
        logger.warning("SIGTTOU ignored: restart with another --processes instead")

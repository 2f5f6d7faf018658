"""Structured JSON log lines, one object per line, for the webhook, its server and the
operator.

A decision is logged with its uid, kind, namespace, name, images, decision and duration;
never credentials, tokens or whole object specs: callers pass only those fields as
``extra={"fields": {...}}``.

In a serving worker (``configure(background=True)``) a line is formatted on the thread that
logs it and written by one writer thread. With the plain ``StreamHandler`` every admission
decision took the handler's lock and then wrote and flushed stderr while holding it; the
write gives up the GIL, so under load most request threads queued on that lock (a
profile of the warm path showed them waiting there more than anywhere else). The writer
takes whatever lines have piled up and writes them with one flush, then lingers a few
milliseconds so that the next batch gathers instead of waking it for every line (each
wake-up is a GIL hand-off away from the event loop); it is stopped and drained at exit.

A serving worker also turns off what the records would carry and no line prints: the
caller's file and line, thread, process and multiprocessing names (the "Optimization"
section of Python's logging HOWTO). That is a sixth of a warm review's CPU.
"""

from __future__ import annotations

import atexit
import json
import logging
import queue
import sys
import threading
import time
from typing import Any, TextIO


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, separators=(",", ":"))


class LineWriter:
    """Writes queued lines to ``stream`` on one daemon thread, a batch per write."""

    BATCH = 256
    LINGER = 0.005  # seconds between batches; a decision line is never that urgent

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._queue: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="slimgate-log", daemon=True)
        self._thread.start()

    def put(self, line: str) -> None:
        self._queue.put(line)

    def _run(self) -> None:
        while True:
            line = self._queue.get()
            lines: list[str] = []
            while line is not None:
                lines.append(line)
                if len(lines) >= self.BATCH:
                    break
                try:
                    line = self._queue.get_nowait()
                except queue.Empty:
                    break
            if lines:
                try:
                    self._stream.write("\n".join(lines) + "\n")
                    self._stream.flush()
                except (OSError, ValueError):
                    pass  # stderr gone: nowhere left to report it
            if line is None:
                return
            time.sleep(self.LINGER)

    def stop(self, timeout: float = 5.0) -> None:
        """Write what is queued, then stop the thread."""
        self._queue.put(None)
        self._thread.join(timeout)


class QueuedLineHandler(logging.Handler):
    """Formats on the logging thread, hands the line to a :class:`LineWriter`.

    ``handle`` skips the handler lock: formatting is thread-safe and the queue is too.
    """

    def __init__(self, writer: LineWriter) -> None:
        super().__init__()
        self.writer = writer

    def handle(self, record: logging.LogRecord) -> bool:
        if self.filter(record):
            self.emit(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.writer.put(self.format(record))
        except Exception:  # noqa: BLE001 - logging must not raise into the caller
            self.handleError(record)


def configure(
    level: str = "info",
    stream: TextIO | None = None,
    *,
    background: bool = False,
    loggers: tuple[str, ...] = ("slimgate",),
) -> None:
    """Send the logs of ``loggers`` (slimgate's; the operator adds kopf's) to ``stream``
    (stderr) as JSON lines; with ``background`` written by a writer thread of this process
    (call it after ``fork``). An unknown ``level`` name is ``INFO``."""
    level = level.upper()
    if level not in logging.getLevelNamesMapping():
        level = "INFO"
    out = stream or sys.stderr
    handler: logging.Handler
    if background:
        _lighter_records()
        writer = LineWriter(out)
        atexit.register(writer.stop)
        handler = QueuedLineHandler(writer)
    else:
        handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    for name in loggers:
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False


def _lighter_records() -> None:
    """Skip the record fields ``JsonFormatter`` never prints (logging HOWTO, Optimization)."""
    logging._srcfile = None  # no sys._getframe walk per record
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False

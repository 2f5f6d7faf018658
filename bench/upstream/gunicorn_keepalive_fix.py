"""What the report proposes for gunicorn's ``gunicorn/asgi/protocol.py``, as a subclass.

Imported in the worker by ``gunicorn_keepalive_leak.py --fixed``; not used by slimgate.

1. ``connection_lost`` on a connection that waits for its next request wakes
   ``_handle_connection`` (as ``_keepalive_timeout`` already does), instead of leaving the
   task parked until ``asgi_disconnect_grace_period`` cancels it;
2. once the connection is lost and its task is done, the protocol drops its transport,
   writer, flow control and parser: the parser holds bound methods of the protocol (a
   reference cycle), and through ``self.transport`` that cycle kept the TLS transport and
   its 256 KiB read buffer until a full garbage collection.
"""

from gunicorn.asgi import protocol
from gunicorn.workers import gasgi


class ReleasingProtocol(protocol.ASGIProtocol):
    def _release(self):
        if self._conn_lost_handled and (self._task is None or self._task.done()):
            self._callback_parser = None
            self.transport = None
            self.writer = None
            self._flow_control = None

    def connection_made(self, transport):
        super().connection_made(transport)
        if self._task is not None:
            self._task.add_done_callback(lambda _task: self._release())

    def connection_lost(self, exc):
        super().connection_lost(exc)
        if self._awaiting_request and self._request_ready is not None:
            self._request_ready.set()
        self._release()


gasgi.ASGIProtocol = ReleasingProtocol

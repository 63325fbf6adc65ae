"""Completion callbacks to {CALLBACK_URL}/{id}:complete, posted from background threads.

The invocation's response never waits for them (a synchronous callback would add the control
plane's latency, and any retry, to every call). Each worker thread keeps one keep-alive connection; one attempt per completion,
because the dispatcher already has the result from the HTTP response.
"""
import http.client
import queue
import sys
import threading
from typing import Optional, Tuple
from urllib.parse import quote, urlsplit

_STOP = None
_WORKERS = 2
_MAX_QUEUED = 10_000


class CallbackPoster:
    def __init__(self, base_url: str, token: Optional[str] = None) -> None:
        # base_url was validated by RuntimeConfig (an http(s) URL).
        url = urlsplit(base_url)
        self._headers = {"Content-Type": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._https = url.scheme == "https"
        self._host = url.hostname
        self._port = url.port
        self._path = url.path.rstrip("/")
        self._queue: "queue.Queue[Optional[Tuple[str, bytes]]]" = queue.Queue(_MAX_QUEUED)
        self.dropped = 0
        self._threads = [
            threading.Thread(target=self._run, name=f"nanofaas-callback-{i}", daemon=True) for i in range(_WORKERS)
        ]
        for thread in self._threads:
            thread.start()

    def post(self, execution_id: str, body: bytes) -> None:
        try:
            self._queue.put_nowait((execution_id, body))
        except queue.Full:
            # The control plane is not keeping up; it still has every result from the HTTP responses.
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                print(f"callback queue full: {self.dropped} completions not posted", file=sys.stderr)

    def close(self, timeout_s: float = 2.0) -> None:
        """Sends what is queued (bounded by timeout_s), then stops the workers."""
        try:
            for _ in self._threads:
                self._queue.put(_STOP, timeout=timeout_s)
        except queue.Full:
            return  # still backed up after timeout_s: give up, the threads are daemons
        for thread in self._threads:
            thread.join(timeout_s)

    def _connect(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        return cls(self._host, self._port, timeout=5)

    def _run(self) -> None:
        conn = self._connect()
        while True:
            item = self._queue.get()
            if item is _STOP:
                conn.close()
                return
            execution_id, body = item
            path = f"{self._path}/{quote(execution_id, safe='')}:complete"
            for attempt in (1, 2):
                try:
                    conn.request("POST", path, body=body, headers=self._headers)
                    response = conn.getresponse()
                    response.read()
                    # Any non-2xx is logged with its status: 401/403 mean this replica's credential is
                    # wrong, 404/409 that the execution already ended (the dispatcher had the answer).
                    if not 200 <= response.status < 300:
                        print(f"callback for {execution_id} failed: HTTP {response.status}", file=sys.stderr, flush=True)
                    break
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    conn = self._connect()
                    # A second try only covers a keep-alive connection the server had closed.
                    if attempt == 2:
                        print(f"callback for {execution_id} failed: {exc!r}", file=sys.stderr, flush=True)

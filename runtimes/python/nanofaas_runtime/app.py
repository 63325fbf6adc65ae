"""The FastAPI app serving the runtime contract (docs/design.md §5.2) for one loaded handler.

Hot path choices, measured on Debian's FastAPI 0.92 + uvicorn/h11: /invoke is a plain Starlette
route on the FastAPI app (no pydantic model or dependency solving per request), the body is read
raw and parsed once, and nothing is logged per request.
"""
import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, Optional

from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from .callback import CallbackPoster
from .codec import dumps, loads
from .config import RuntimeConfig
from .context import Context
from .errors import InvalidInputError
from .loader import LoadedHandler
from .metrics import RuntimeMetrics

JSON = "application/json"
_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


def error_body(code: str, message: str) -> bytes:
    return dumps({"error": code, "message": message})


def _message(exc: BaseException) -> str:
    text = str(exc)
    return text if text.strip() else type(exc).__name__


class _Deadline:
    """Cancels a future at the deadline and remembers that it did (vs. any other cancellation)."""

    __slots__ = ("expired", "_timer")

    def __init__(self, loop: asyncio.AbstractEventLoop, future: "asyncio.Future[Any]", seconds: float) -> None:
        self.expired = False
        self._timer = loop.call_later(seconds, self._expire, future)

    def _expire(self, future: "asyncio.Future[Any]") -> None:
        if not future.done():
            self.expired = True
            future.cancel()

    def clear(self) -> None:
        self._timer.cancel()


class InvokeService:
    """Runs one invocation: parse, call the handler under TIMEOUT_MS, answer, account, call back."""

    def __init__(
        self,
        config: RuntimeConfig,
        handler: LoadedHandler,
        metrics: RuntimeMetrics,
        callbacks: Optional[CallbackPoster],
        init_duration_ms: int,
        executor: ThreadPoolExecutor,
    ) -> None:
        self._config = config
        self._handler = handler
        self._metrics = metrics
        self._callbacks = callbacks
        self._init_ms = str(init_duration_ms)
        self._executor = executor
        self._timeout_s = config.timeout_ms / 1000
        self._cold = True

    async def invoke(self, request: Request) -> Response:
        try:
            envelope = loads(await request.body())
        except ValueError as exc:
            return Response(error_body("INVALID_JSON", f"request body is not valid JSON: {exc}"), 400, media_type=JSON)
        if not isinstance(envelope, dict):
            return Response(error_body("INVALID_JSON", "request body must be a JSON object {input, metadata}"), 400, media_type=JSON)
        metadata = envelope.get("metadata")
        if metadata is None:
            metadata = {}
        elif not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
            return Response(error_body("INVALID_JSON", "metadata must be an object of strings"), 400, media_type=JSON)

        headers = request.headers
        execution_id = headers.get("x-execution-id")
        started = time.monotonic()
        ctx = Context(
            self._config.function_name,
            execution_id,
            headers.get("x-trace-id"),
            _attempt(headers.get("x-dispatch-attempt")),
            metadata,
            started + self._timeout_s,
        )
        status, payload, outcome = await self._run(envelope.get("input"), ctx)
        return self._respond(status, payload, outcome, ctx, started)

    async def _run(self, value: Any, ctx: Context):
        handler = self._handler
        args = (value, ctx) if handler.wants_context else (value,)
        loop = asyncio.get_running_loop()
        if handler.is_async:
            future = asyncio.ensure_future(handler.fn(*args))
        else:
            # Sync handlers run in the thread pool so the event loop keeps serving health and metrics.
            future = loop.run_in_executor(self._executor, handler.fn, *args)
        deadline = _Deadline(loop, future, self._timeout_s)
        self._metrics.in_flight += 1
        try:
            output = await future
            return 200, dumps(output), "success"
        except asyncio.CancelledError:
            if not deadline.expired:
                raise
            # A sync handler's thread cannot be stopped; it finishes in the background, unanswered.
            return 504, error_body("TIMEOUT", f"handler did not finish within TIMEOUT_MS={self._config.timeout_ms}"), "timeout"
        except InvalidInputError as exc:
            return 400, error_body("INVALID_INPUT", _message(exc)), "invalid_input"
        except Exception as exc:  # any other handler failure, including unserialisable output
            return 500, error_body("FUNCTION_ERROR", _message(exc)), "error"
        finally:
            deadline.clear()
            self._metrics.in_flight -= 1

    def _respond(self, status: int, payload: bytes, outcome: str, ctx: Context, started: float) -> Response:
        headers: Dict[str, str] = {}
        if self._cold:
            self._cold = False
            self._metrics.cold_starts += 1
            headers["X-Cold-Start"] = "true"
            headers["X-Init-Duration-Ms"] = self._init_ms
        if ctx.execution_id is not None:
            headers["X-Execution-Id"] = ctx.execution_id
        self._metrics.finished(outcome, time.monotonic() - started)
        if self._callbacks is not None and ctx.execution_id is not None:
            kind = b'"success","output":' if status == 200 else b'"error","error":'
            self._callbacks.post(ctx.execution_id, b'{"attempt":%d,"status":%s%s}' % (ctx.attempt, kind, payload))
        return Response(payload, status, headers=headers, media_type=JSON)


def _attempt(header: Optional[str]) -> int:
    try:
        return max(1, int(header)) if header else 1
    except ValueError:
        return 1


def create_app(service: InvokeService, metrics: RuntimeMetrics) -> FastAPI:
    app = FastAPI(title="nanofaas python runtime", openapi_url=None, docs_url=None, redoc_url=None)
    app.router.add_route("/invoke", service.invoke, methods=["POST"])

    @app.get("/health")
    async def health() -> Response:
        return Response(b'{"status":"UP"}', media_type=JSON)

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = _HTTP_CODES.get(exc.status_code, "HTTP_%d" % exc.status_code)
        message = f"no route {request.url.path}" if exc.status_code == 404 else str(exc.detail)
        return Response(error_body(code, message), exc.status_code, headers=getattr(exc, "headers", None), media_type=JSON)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> Response:
        # Only runtime bugs get here: handler failures are answered by InvokeService itself.
        return Response(error_body("INTERNAL_ERROR", _message(exc)), 500, media_type=JSON)

    return app

"""Entry point: ``python3 -m nanofaas_runtime`` with HANDLER, PORT, FUNCTION_NAME, TIMEOUT_MS set."""
import time

_STARTED = time.monotonic()

import asyncio  # noqa: E402  (timing starts before the heavier imports below)
import inspect  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from typing import Optional  # noqa: E402

import uvicorn  # noqa: E402

from .app import InvokeService, create_app  # noqa: E402
from .callback import CallbackPoster  # noqa: E402
from .config import RuntimeConfig  # noqa: E402
from .errors import ConfigError, HandlerLoadError  # noqa: E402
from .loader import load_handler  # noqa: E402
from .metrics import RuntimeMetrics  # noqa: E402
from .parent_pipe import die_with_parent  # noqa: E402
from .process_age import process_age_seconds  # noqa: E402


class _Server(uvicorn.Server):
    """Sends queued callbacks while shutting down, before uvicorn returns (newer versions then
    re-raise SIGTERM, so code after run() is not reached)."""

    def __init__(self, config: uvicorn.Config, callbacks: Optional[CallbackPoster]) -> None:
        super().__init__(config)
        self._callbacks = callbacks

    async def shutdown(self, sockets=None) -> None:
        await super().shutdown(sockets=sockets)
        if self._callbacks is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._callbacks.close)


def main() -> int:
    # The whole environment is validated before anything else happens.
    try:
        config = RuntimeConfig.from_env()
    except ConfigError as exc:
        print(f"nanofaas-runtime: {exc}", file=sys.stderr)
        return 2
    if config.die_with_parent:
        die_with_parent()
    try:
        handler = load_handler(config.handler)
    except HandlerLoadError as exc:
        print(f"nanofaas-runtime: {exc}", file=sys.stderr)
        return 2
    callbacks = CallbackPoster(config.callback_url, config.callback_token) if config.callback_url else None
    init_s = process_age_seconds(_STARTED)
    metrics = RuntimeMetrics(config.function_name, init_s)
    executor = ThreadPoolExecutor(max_workers=min(32, (os.cpu_count() or 1) + 4), thread_name_prefix="nanofaas-handler")
    service = InvokeService(config, handler, metrics, callbacks, round(init_s * 1000), executor)
    app = create_app(service, metrics)

    options = dict(
        host=config.host,
        port=config.port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        server_header=False,
        date_header=False,
    )
    if "timeout_graceful_shutdown" in inspect.signature(uvicorn.Config.__init__).parameters:
        # Newer uvicorn can bound the drain; Debian's 0.17 waits for in-flight requests, which
        # TIMEOUT_MS bounds anyway.
        options["timeout_graceful_shutdown"] = max(1, config.timeout_ms // 1000 + 1)
    server = _Server(uvicorn.Config(app, **options), callbacks)
    print(
        f"nanofaas python runtime: {config.function_name} ({config.handler}) on http://{config.host}:{config.port}"
        f" after {round(init_s * 1000)} ms",
        flush=True,
    )
    # uvicorn turns SIGTERM into a graceful stop: no new connections, in-flight requests finish.
    server.run()
    executor.shutdown(wait=False, cancel_futures=True)
    return 0 if server.started else 1


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip joining handler threads: one stuck past its timeout must not hold the process open.
    os._exit(code)

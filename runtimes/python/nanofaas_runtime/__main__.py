"""Entry point: ``python3 -m nanofaas_runtime`` with HANDLER, PORT, FUNCTION_NAME, TIMEOUT_MS set."""
import time

_STARTED = time.monotonic()

import os  # noqa: E402  (timing starts before the heavier imports below)
import sys  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

import uvicorn  # noqa: E402

from .app import InvokeService, create_app  # noqa: E402
from .callback import CallbackPoster  # noqa: E402
from .config import RuntimeConfig  # noqa: E402
from .errors import ConfigError, HandlerLoadError  # noqa: E402
from .loader import load_handler  # noqa: E402
from .metrics import RuntimeMetrics  # noqa: E402
from .process_age import process_age_seconds  # noqa: E402


def main() -> int:
    try:
        config = RuntimeConfig.from_env()
        handler = load_handler(config.handler)
        callbacks = CallbackPoster(config.callback_url) if config.callback_url else None
    except (ConfigError, HandlerLoadError, ValueError) as exc:
        print(f"nanofaas-runtime: {exc}", file=sys.stderr)
        return 2
    init_s = process_age_seconds(_STARTED)
    metrics = RuntimeMetrics(config.function_name, init_s)
    executor = ThreadPoolExecutor(max_workers=min(32, (os.cpu_count() or 1) + 4), thread_name_prefix="nanofaas-handler")
    service = InvokeService(config, handler, metrics, callbacks, round(init_s * 1000), executor)
    app = create_app(service, metrics)

    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=config.host,
            port=config.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            server_header=False,
            date_header=False,
        )
    )
    print(
        f"nanofaas python runtime: {config.function_name} ({config.handler}) on http://{config.host}:{config.port}"
        f" after {round(init_s * 1000)} ms",
        flush=True,
    )
    # uvicorn turns SIGTERM into a graceful stop: no new connections, in-flight requests finish.
    server.run()
    if callbacks is not None:
        callbacks.close()
    executor.shutdown(wait=False, cancel_futures=True)
    return 0 if server.started else 1


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip joining handler threads: one stuck past its timeout must not hold the process open.
    os._exit(code)

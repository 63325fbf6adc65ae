"""Die with the control plane (NANOFAAS_PARENT_PIPE=stdin).

The control plane starts the runtime with stdin as a pipe it holds open and never writes. The
kernel closes that pipe however the control plane ends, SIGKILL included, so EOF (or an error) on
stdin means nobody will ever stop this runtime: it kills its whole process group at once. The
runtime leads that group (it is spawned detached), and whatever a handler started shares it.
"""
import os
import signal
import sys
import threading


def die_with_parent() -> None:
    threading.Thread(target=_watch, name="nanofaas-parent-pipe", daemon=True).start()


def _watch() -> None:
    why = "stdin reached EOF"
    try:
        while os.read(0, 65536):
            pass  # nothing is expected on the pipe; reading it is how EOF is seen
    except OSError as exc:
        why = f"stdin failed: {exc}"
    try:
        print(f"nanofaas-runtime: control plane gone ({why}): killing this runtime and everything it started", file=sys.stderr, flush=True)
    except Exception:  # noqa: BLE001 - best effort: stderr may be gone with the parent
        pass
    kill_own_group()


def kill_own_group() -> None:
    """SIGKILL the group this process leads; one that leads none kills only itself (never its starter's group)."""
    if os.getpgrp() == os.getpid():
        os.killpg(os.getpid(), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)

"""Answers computed in child processes of a server worker (`web.answer_processes` > 0).

An answer is seconds of CPU-bound Python; on a thread of the worker it holds the GIL that every page view, session
look-up and login of that worker also needs, so pages wait behind it. A child process has its own interpreter: it
opens its own engine over the same knowledge base (and reloads its index when another process ingests, like any
worker), runs at a lower scheduling priority (`web.answer_niceness`) so that pages get the CPU first, and sends
back the answer. Each child costs the memory of one engine (the model and the index).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from clinqa.engine import Engine
from clinqa.settings import configure, settings

_engine: Engine | None = None  # the engine of this child process


def _start(db: str, settings_json: str, niceness: int, index_wait_s: float) -> None:
    """Runs once in each child: the worker's settings, a lower priority, an engine with its index loaded."""
    global _engine
    configure(**json.loads(settings_json))
    if niceness:
        os.nice(niceness)
    _engine = Engine(db)
    _engine.index_wait_s = index_wait_s
    _engine.warm_up()


def _ready() -> bool:
    return _engine is not None


def _call(method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if _engine is None:
        raise RuntimeError("the answer process has no engine")
    return getattr(_engine, method)(*args, **kwargs)


class AnswerPool:
    """`processes` child processes, each with an engine over `db`, that run `Engine` methods."""

    def __init__(self, db: Path | str, processes: int, niceness: int, index_wait_s: float = 0.0) -> None:
        self._processes = processes
        # spawn, not fork: the worker holds threads (ONNX Runtime's, the server's) that a fork would copy mid-lock.
        self._pool = ProcessPoolExecutor(
            max_workers=processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=(str(db), settings().model_dump_json(), niceness, index_wait_s),
        )

    def start(self) -> None:
        """Start the children now and load their engines, so that the first answer waits for no start-up."""
        for future in [self._pool.submit(_ready) for _ in range(self._processes)]:
            future.result()

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """`Engine.<method>(*args, **kwargs)` in a child; its exceptions are raised here."""
        return await asyncio.wrap_future(self._pool.submit(_call, method, args, kwargs))

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

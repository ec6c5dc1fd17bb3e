"""`clinqa serve [--workers N]`: uvicorn runs N worker processes, each of which imports `worker_app` and builds
its own app, engine and database connection. The knowledge base and the settings in force (`--set` included)
reach the workers through the environment, which they inherit."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from fastapi import FastAPI

from clinqa.settings import configure, settings
from clinqa.web.app import create_app

DB_VARIABLE = "CLINQA_SERVE_DB"
SETTINGS_VARIABLE = "CLINQA_SERVE_SETTINGS"
# After another process ingests, a worker answers from the index it has until the new one is saved, and builds it
# itself only after this long (another machine's ingest saves no index here).
INDEX_WAIT_S = 120.0
# A thread that wants the GIL waits up to this long for an answer's thread to let it go; Python's 5 ms default,
# paid at every step of a page (each query, the template), is what made pages slow while answers ran.
SWITCH_INTERVAL_S = 0.001


def worker_app() -> FastAPI:
    """The app of one worker, what answers need loaded before it takes a request (a first answer waits for no
    load): its answerer, or its answer processes."""
    configure(**json.loads(os.environ[SETTINGS_VARIABLE]))
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    app = create_app(os.environ[DB_VARIABLE])
    web = app.state.web
    web.engine.index_wait_s = INDEX_WAIT_S
    web.ready_to_answer()
    return app


def serve(db: Path | str, host: str, port: int, workers: int = 1) -> None:
    """Serve until interrupted; with `workers` > 1 a supervisor process restarts a worker that dies."""
    import uvicorn

    os.environ[DB_VARIABLE] = str(db)
    os.environ[SETTINGS_VARIABLE] = settings().model_dump_json()
    # No access log: paths hold questions (GET /ask) and article ids, which are slugs of questions.
    uvicorn.run(
        f"{__name__}:worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )

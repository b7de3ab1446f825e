"""The application as ``pastdue serve`` hands it to uvicorn's worker processes.

Each worker imports this module and builds its own App (engine, pool) from the environment,
which the ``serve`` command fills from its options, so that several processes can answer
on one port; an engine must never be shared across a fork.
"""

from __future__ import annotations

from fastapi import FastAPI

from pastdue.bootstrap import build
from pastdue.settings import Settings
from pastdue.web.app import create_app


def app_from_environment() -> FastAPI:
    return create_app(build(Settings.from_env()))

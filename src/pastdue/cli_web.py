"""``pastdue serve`` (the HTTP application) and ``pastdue webhooks sign`` (for integrators)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from pastdue.cli import _ready, app, handled, out

webhooks_app = typer.Typer(help="Signed webhooks: sign a payload the way pastdue checks it.", no_args_is_help=True)
app.add_typer(webhooks_app, name="webhooks")


@app.command()
@handled
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535)] = 8000,
    workers: Annotated[
        int, typer.Option("--workers", min=0, help="Processes answering on the port (0: one per CPU).")
    ] = 0,
) -> None:
    """Serve the HTTP application: dashboard, customer portal, REST API and payment webhooks."""
    import uvicorn

    app_ = _ready(ctx)
    count = workers or os.cpu_count() or 1
    out.print(f"serving on http://{host}:{port} with {count} worker(s)", markup=False)
    if count == 1:
        from pastdue.web import create_app

        uvicorn.run(create_app(app_), host=host, port=port, log_level="warning")
        return
    # Workers build their own App from the environment: hand them this command's choices.
    os.environ["PASTDUE_DATABASE_URL"] = app_.settings.database_url
    os.environ["PASTDUE_TENANT"] = app_.tenant
    uvicorn.run(
        "pastdue.web.serving:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=count,
        log_level="warning",
    )


@webhooks_app.command("sign")
def webhooks_sign(
    payload: Annotated[Path, typer.Argument(help="The exact body to send ('-' for standard input).")],
    secret: Annotated[list[str], typer.Option("--secret", help="Signing secret (repeat during a rotation).")],
    timestamp: Annotated[int | None, typer.Option("--timestamp", help="Unix seconds; default now.")] = None,
) -> None:
    """Print the Pastdue-Signature header value for a payload."""
    from pastdue.signing import sign

    body = sys.stdin.buffer.read() if str(payload) == "-" else payload.read_bytes()
    print(sign(secret, timestamp if timestamp is not None else int(time.time()), body))

"""``pastdue serve`` (the HTTP application) and ``pastdue webhooks sign`` (for integrators)."""

from __future__ import annotations

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
) -> None:
    """Serve the HTTP application (payment-provider webhooks at POST /webhooks/payments)."""
    import uvicorn

    from pastdue.web import create_app

    web = create_app(_ready(ctx))
    out.print(f"serving on http://{host}:{port}", markup=False)
    uvicorn.run(web, host=host, port=port, log_level="warning")


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

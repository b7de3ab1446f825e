"""Who may get in: ``pastdue users``, ``pastdue apikeys`` and ``pastdue portal-link``.

Secrets never travel as command-line arguments (they would sit in shell history and in
every process listing): a password is typed at a hidden prompt or piped in with
``--password-stdin``. An API key is printed once, alone on standard output so that a
script can capture it, with the warning on standard error.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pastdue.cli import Json, _ready, app, err, handled, out
from pastdue.cli_delivery import By, _actor

if TYPE_CHECKING:
    from pastdue.store.access import ApiKey, User

users_app = typer.Typer(help="People who log in to the dashboard, and their roles.", no_args_is_help=True)
apikeys_app = typer.Typer(help="API keys for integrators (Authorization: Bearer <key>).", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(apikeys_app, name="apikeys")


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role.value,
        "created_at": _time(user.created_at),
        "disabled_at": _time(user.disabled_at),
    }


def _key_json(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "scopes": [s.value for s in key.scopes],
        "created_at": _time(key.created_at),
        "last_used_at": _time(key.last_used_at),
        "revoked_at": _time(key.revoked_at),
    }


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


# --- users ---------------------------------------------------------------------------------


@users_app.command("add")
@handled
def users_add(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(metavar="EMAIL", help="The address the user logs in with.")],
    role: Annotated[str, typer.Option("--role", help="admin, collector or viewer.")],
    name: Annotated[str, typer.Option("--name", help="The user's name, as the dashboard shows it.")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of standard input.")
    ] = False,
    by: By = None,
) -> None:
    """Add a dashboard user; the password (12 characters or more) is asked for, never an argument."""
    from pastdue.services.users import add_user

    application = _ready(ctx)
    user = add_user(application, email, name, role, _read_password(password_stdin), actor=_actor(by))
    out.print(f"user {user.email} added as {user.role.value}", markup=False)


@users_app.command("list")
@handled
def users_list(ctx: typer.Context, as_json: Json = False) -> None:
    """Every user, disabled ones too."""
    from pastdue.services.users import list_users

    rows = list_users(_ready(ctx))
    if as_json:
        print(json.dumps([_user_json(u) for u in rows], indent=1))
        return
    for user in rows:
        state = f"disabled {user.disabled_at:%Y-%m-%d}" if user.disabled_at else "active"
        out.print(f"{user.email}  {user.role.value}  {state}  {user.name}".rstrip(), markup=False)
    out.print(f"{len(rows)} user(s)")


@users_app.command("disable")
@handled
def users_disable(ctx: typer.Context, email: str, by: By = None) -> None:
    """Stop a user from logging in; they stay on record, and in the audit log."""
    from pastdue.services.users import disable_user

    changed = disable_user(_ready(ctx), email, actor=_actor(by))
    out.print(f"user {email.strip().lower()} " + ("disabled" if changed else "was already disabled"), markup=False)


# --- API keys ------------------------------------------------------------------------------


@apikeys_app.command("create")
@handled
def apikeys_create(
    ctx: typer.Context,
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="read, write or admin; repeat for several.")
    ] = None,
    name: Annotated[str, typer.Option("--name", help="What the key is for, e.g. the integration's name.")] = "",
    by: By = None,
) -> None:
    """Create an API key and print it, this once: only its hash is kept."""
    from pastdue.services.api_keys import create_api_key

    key_id, key = create_api_key(_ready(ctx), name, scope or [], actor=_actor(by))
    err.print(
        f"API key {key_id} created. Store it now: it is shown only this once and cannot be recovered.",
        markup=False,
    )
    print(key)


@apikeys_app.command("list")
@handled
def apikeys_list(ctx: typer.Context, as_json: Json = False) -> None:
    """Every key with its scopes and last use, revoked ones too; never a secret."""
    from pastdue.services.api_keys import list_api_keys

    rows = list_api_keys(_ready(ctx))
    if as_json:
        print(json.dumps([_key_json(k) for k in rows], indent=1))
        return
    for key in rows:
        used = f"last used {key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never used"
        state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
        scopes = ",".join(s.value for s in key.scopes)
        out.print(f"{key.id}  {scopes}  {state}  {used}  {key.name}".rstrip(), markup=False)
    out.print(f"{len(rows)} key(s)")


@apikeys_app.command("revoke")
@handled
def apikeys_revoke(ctx: typer.Context, key_id: Annotated[str, typer.Argument(metavar="ID")], by: By = None) -> None:
    """Stop a key from working, from its next request on."""
    from pastdue.services.api_keys import revoke_api_key

    changed = revoke_api_key(_ready(ctx), key_id, actor=_actor(by))
    out.print(f"API key {key_id} " + ("revoked" if changed else "was already revoked"), markup=False)


# --- portal links --------------------------------------------------------------------------


@app.command("portal-link")
@handled
def portal_link(
    ctx: typer.Context,
    customer_id: Annotated[str, typer.Argument(metavar="CUSTOMER_ID", help="The customer the portal is for.")],
    days: Annotated[int | None, typer.Option("--days", help="Days the link stays valid (default 30).")] = None,
    revoke: Annotated[
        bool, typer.Option("--revoke", help="Withdraw every portal link handed out to the customer instead.")
    ] = False,
    by: By = None,
) -> None:
    """Print a signed, revocable portal URL for a customer (or, with --revoke, withdraw them all)."""
    from pastdue.services.portal_links import DEFAULT_DAYS, create_portal_link, revoke_portal_links

    if revoke:
        if days is not None:
            raise typer.BadParameter("--days does not go with --revoke")
        count = revoke_portal_links(_ready(ctx), customer_id, actor=_actor(by))
        out.print(f"{count} portal link(s) of customer {customer_id} revoked", markup=False)
        return
    print(create_portal_link(_ready(ctx), customer_id, DEFAULT_DAYS if days is None else days, actor=_actor(by)))

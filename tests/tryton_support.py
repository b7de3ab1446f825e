"""Real Tryton databases on SQLite for the connector tests, built once per test session.

Creating one (``trytond-admin`` installing party, company, currency and account, then the
books of ``tryton_books.py``) takes seconds, so the first test that asks builds a template
file and every test gets a copy of its own in its tmp folder. Tryton runs in child
processes only: its process-wide configuration and model pool stay out of the tests.

Not a test module; tests import it by name, as they import ``local_servers``.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

BOOKS_SCRIPT = Path(__file__).with_name("tryton_books.py")
MODULES = ("party", "company", "currency", "account")
_template: Path | None = None  # the session's template database, once built


def require_trytond() -> None:
    """Skip, saying why, where trytond and its account module are not installed.

    Asked of the installed distributions, not by importing: importing trytond sets the
    process's time zone, lxml's default parser and decimal's default context.
    """
    try:
        for distribution in ("trytond", "trytond_account"):
            importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("trytond with trytond_account is not installed: pip install -e '.[tryton]' (make test does)")


@dataclass
class TrytonBooks:
    """One Tryton database file and the trytond configuration that finds it."""

    folder: Path
    name: str = "books"
    created: dict[str, Any] | None = None

    @property
    def path(self) -> Path:
        return self.folder / f"{self.name}.sqlite"

    @property
    def config(self) -> Path:
        return self.folder / "trytond.conf"

    def spec(self, **options: str) -> str:
        """The source spec of this database for ``pastdue sync``; rows are read at once (settle=0)."""
        query = "&".join(f"{key}={value}" for key, value in {"settle": "0", **options}.items())
        return f"tryton://{self.path}?{query}"

    def run(self, step: str) -> dict[str, Any]:
        """Run a step of ``tryton_books.py`` on this database; returns what it printed."""
        result = _run([sys.executable, str(BOOKS_SCRIPT), str(self.config), self.name, step], self.folder)
        return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]

    def line(self, role: str) -> int:
        assert self.created is not None
        return int(self.created["lines"][role])


def books(folder: Path, template_folder: Path) -> TrytonBooks:
    """A fresh copy of the session's Tryton books in ``folder``."""
    global _template
    if _template is None:
        _template = _build(template_folder)
    folder.mkdir(parents=True, exist_ok=True)
    copy = TrytonBooks(folder)
    _write_config(copy)
    shutil.copyfile(_template, copy.path)
    copy.created = json.loads(_template.with_suffix(".json").read_text(encoding="utf-8"))
    return copy


def _build(folder: Path) -> Path:
    require_trytond()
    template = TrytonBooks(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _write_config(template)
    template.path.touch()  # trytond opens, it does not create, a SQLite database
    (folder / "admin-password").write_text("admin\n", encoding="utf-8")
    admin = Path(sys.executable).with_name("trytond-admin")
    command = [str(admin)] if admin.exists() else [sys.executable, "-m", "trytond.admin"]
    _run(
        [
            *command,
            "-c",
            str(template.config),
            "-d",
            template.name,
            "--all",
            "-u",
            *MODULES,
            "--activate-dependencies",
            "--email",
            "admin@example.com",
        ],
        folder,
        extra_env={"TRYTONPASSFILE": str(folder / "admin-password")},
    )
    created = template.run("create")
    template.path.with_suffix(".json").write_text(json.dumps(created), encoding="utf-8")
    return template.path


def _write_config(books: TrytonBooks) -> None:
    books.config.write_text(f"[database]\nuri = sqlite://\npath = {books.folder}\n", encoding="utf-8")


def _run(command: list[str], folder: Path, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRYTOND")}
    env |= extra_env or {}
    result = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=300, check=False)
    if result.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result

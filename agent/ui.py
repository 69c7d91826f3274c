"""Terminal output for the CLI (rich): consoles, errors, status tables."""

from __future__ import annotations

import functools

from rich.console import Console
from rich.markup import escape


@functools.cache
def console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def error(message: str) -> None:
    console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", markup=True)


def info(message: str) -> None:
    console(stderr=True).print(message, markup=False)

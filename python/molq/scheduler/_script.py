"""Job-script rendering shared by every backend: shebang, directives, body."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from molq.errors import ConfigError

if TYPE_CHECKING:
    from molq.submission import JobSpec

__all__ = ["shell_quote", "render_script", "render_body"]

_SAFE = re.compile(r"[A-Za-z0-9_/.\-=:@%+,]+")
_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def shell_quote(text: str) -> str:
    """Quote one word for bash: bare when safe, else single-quoted."""
    if not text:
        return "''"
    if _SAFE.fullmatch(text):
        return text
    return "'" + text.replace("'", "'\"'\"'") + "'"


def render_body(spec: JobSpec, user_script_path: str | None = None) -> list[str]:
    """The lines after the directives: cd, env exports, then the payload."""
    lines = [""]
    # the execution's cwd first, as in the original (a spec built by hand may
    # leave spec.cwd at its default, the caller's cwd)
    cwd = str(spec.execution.cwd) if spec.execution.cwd else spec.cwd
    if cwd:
        lines.append(
            f"cd -- {shell_quote(cwd)} || "
            f"{{ echo {shell_quote('molq: cannot enter working directory ' + cwd)} >&2; exit 1; }}"
        )
    for key, value in sorted((spec.execution.env or {}).items()):
        if not _ENV_KEY.fullmatch(key):
            raise ConfigError(
                f"environment variable name {key!r} is not a valid shell identifier",
                key=key,
            )
        lines.append(f"export {key}={shell_quote(str(value))}")
    command = spec.command
    if command.argv is not None:
        lines.append(" ".join(shell_quote(a) for a in command.argv))
    elif command.command is not None:
        lines.append(command.command)
    elif command.script is not None and command.script.variant == "inline":
        lines.extend((command.script.text or "").splitlines())
    else:
        lines.append(f"bash {shell_quote(user_script_path or '')}")
    return lines


def render_script(
    spec: JobSpec, directives: Iterable[str], user_script_path: str | None = None, *, start_lines: Iterable[str] = ()
) -> str:
    """``start_lines`` run first, after the directives (a backend's own bookkeeping)."""
    lines = ["#!/bin/bash", *directives, *start_lines, *render_body(spec, user_script_path)]
    return "\n".join(lines) + "\n"

"""The original molq's command grammar, read into molq's own options.

The original (0.8.1) put the destination first, as a positional:
``molq submit local echo hello``, ``molq list slurm --cluster dardel --all``,
``molq status JOB slurm``. Scripts written for it keep working here:

* a scheduler kind there (local, slurm, pbs, lsf; sge too) is ``--scheduler``,
  and names the cluster ``cli_KIND`` unless ``--cluster`` or a profile names it
  (the original's namespace, so its imported jobs are where its commands look);
* a profile name there is ``--profile``;
* for ``submit`` it is the first word only when it is one of those, so
  ``molq submit python train.py`` still runs ``python``.

Job ids are hexadecimal UUIDs, so a scheduler kind among them is never an id.
"""

from __future__ import annotations

import argparse
import shlex

#: The scheduler kinds a command line may name: molq.scheduler.SCHEDULER_KINDS
#: (a test keeps them equal), spelled out so that --help loads no backend.
SCHEDULERS = ("local", "slurm", "pbs", "lsf", "sge")


class GrammarError(Exception):
    """A destination positional that cannot be read (a usage error)."""


def _handler(args: argparse.Namespace) -> str:
    return str(getattr(args, "handler", "")).rpartition(":")[2]


def _profile_names(args: argparse.Namespace) -> set[str]:
    # Read only when a word is not a scheduler kind; a broken config file is
    # reported by the command that needs it, with the file and the key.
    try:
        from molq.config import load_config  # deferred: molq.config stays out of molq --help until used

        return set(load_config(getattr(args, "config", None)).profiles)
    except Exception:  # noqa: BLE001 - any unreadable config simply has no profiles here
        return set()


def _is_destination(word: str, args: argparse.Namespace, names: list[set[str]]) -> bool:
    if word in SCHEDULERS:
        return True
    if not names:
        names.append(_profile_names(args))
    return word in names[0]


def take_destination(args: argparse.Namespace) -> None:
    """Move a SCHEDULER|PROFILE positional into ``args.scheduler``/``args.profile``."""
    args.namespace_form = False
    args.cluster_implied = False
    handler = _handler(args)
    names: list[set[str]] = []
    target: str | None = None
    if handler == "cmd_submit":
        args.submit_target = None
        if args.argv and _is_destination(args.argv[0], args, names):
            target = args.submit_target = args.argv.pop(0)
    elif handler in ("cmd_cancel", "cmd_watch"):
        kept: list[str] = []
        for i, word in enumerate(args.jobs):
            # The first word of `cancel` is a job id (a profile may look like a prefix).
            if word in SCHEDULERS or (i > 0 and _is_destination(word, args, names)):
                if target is not None and target != word:
                    raise GrammarError(f"two destinations given: {target!r} and {word!r}")
                target = word
            else:
                kept.append(word)
        args.jobs = kept
        if handler == "cmd_cancel" and not kept:
            raise GrammarError("give the id of the job to cancel")
    else:
        target = getattr(args, "target", None)
        if target is not None and not _is_destination(target, args, names):
            raise GrammarError(
                f"unknown scheduler or profile {target!r}: expected one of {', '.join(SCHEDULERS)}, "
                f"or the name of a profile in the config"
            )
    if target is not None:
        _apply(args, target)


def _apply(args: argparse.Namespace, target: str) -> None:
    if target in SCHEDULERS:
        scheduler = getattr(args, "scheduler", None)
        if scheduler and scheduler != target:
            raise GrammarError(f"--scheduler {scheduler} contradicts the scheduler positional {target!r}")
        args.scheduler = target
        if not (getattr(args, "cluster", None) or getattr(args, "profile", None) or getattr(args, "host", None)):
            args.cluster = f"cli_{target}"
            args.cluster_implied = True
    else:
        profile = getattr(args, "profile", None)
        if profile and profile != target:
            raise GrammarError(f"--profile {profile} contradicts the profile positional {target!r}")
        args.profile = target
    args.namespace_form = True


def check_short_options_after_command(
    submit: argparse.ArgumentParser, words: list[str], prefix: list[str], config: str | None
) -> None:
    """``molq submit python3 -c CODE``: after the command's first word, a short
    option such as ``-c`` is far more likely the command's than molq's (molq's
    ``-c`` is --cluster), so it is refused with the fixed command line rather
    than read either way. ``words``: what follows ``submit`` (up to ``--``)."""
    takes_value = {s for a in submit._actions if a.option_strings and a.nargs != 0 for s in a.option_strings}
    names: list[set[str]] = []
    args = argparse.Namespace(config=config)
    i, start, seen_target = 0, None, False
    while i < len(words):
        word = words[i]
        if start is None:
            if word.startswith("-") and word != "-":
                i += 2 if word in takes_value and "=" not in word else 1
                continue
            if not seen_target and _is_destination(word, args, names):
                seen_target = True
                i += 1
                continue
            start = i
        elif word.startswith("-") and not word.startswith("--") and word != "-":
            fixed = shlex.join(["molq", *prefix, "submit", *words[:start], "--", *words[start:]])
            known = {s for a in submit._actions for s in a.option_strings}
            why = (
                "is ambiguous: molq has an option" if word.split("=")[0] in known else "is not an option of molq submit"
            )
            raise GrammarError(
                f"{word} after the command {why}. If it is an option of the command, "
                f"put the command after '--': {fixed}"
            )
        i += 1


def gather_command_words(args: argparse.Namespace, extras: list[str]) -> list[str]:
    """``molq submit slurm --cpus 8 python train.py``: argparse takes ``slurm``
    as the first command word and leaves the words after the option over; they
    are the rest of the command. Returns what is still unplaced (from the first
    unknown option on)."""
    if _handler(args) != "cmd_submit" or not extras:
        return extras
    for i, word in enumerate(extras):
        if word.startswith("-") and word != "-":
            args.argv = [*args.argv, *extras[:i]]
            return extras[i:]
    args.argv = [*args.argv, *extras]
    return []


def unknown_options_message(args: argparse.Namespace, argv: list[str], extras: list[str]) -> str:
    """What to say about words argparse could not place; for ``submit`` after a
    command, the likely cause is a forgotten ``--``."""
    unknown = [word for word in extras if word.startswith("-")]
    if _handler(args) != "cmd_submit" or not unknown or not args.argv:
        return f"unrecognized arguments: {' '.join(extras)}"
    at = argv.index("submit")
    words = argv[at + 1 :]
    start = 0
    if args.submit_target is not None:
        start = _index(words, args.submit_target, 0) + 1
    first = _index(words, args.argv[0], start)
    suggestion = shlex.join([*argv[: at + 1], *words[:first], "--", *words[first:]])
    return (
        f"unknown option {unknown[0]} for molq submit. If it is an option of the command, "
        f"put the command after '--': molq {suggestion}"
    )


def _index(words: list[str], word: str, start: int) -> int:
    for i in range(start, len(words)):
        if words[i] == word:
            return i
    return len(words)

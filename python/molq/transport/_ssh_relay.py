"""The program rsync starts as its remote shell (``rsync -e``): ssh, with the remote
command framed as molq frames its own commands.

rsync speaks its protocol over the remote shell's stdout, so a greeting from the
remote user's ``~/.bashrc`` ends the copy with "protocol version mismatch -- is your
shell clean?". This relay runs ``exec /bin/sh -c 'printf <begin marker>; <rsync's
command>'`` instead of rsync's command and passes on only what follows the marker.
stdin goes straight to ssh; stderr is passed on from its marker too, or whole when
the marker never came (then it holds ssh's own reason for failing).

Run as a file by the Python that runs molq (``python -I _ssh_relay.py N <ssh argv of
N words> <what rsync appends>``); it imports nothing of molq, so it starts fast.
"""

from __future__ import annotations

import os
import select
import shlex
import subprocess
import sys
import threading

BEGIN = b"\036molq-begin\n"
PRINT_BEGIN = "printf '\\036molq-begin\\n'; printf '\\036molq-begin\\n' >&2; "
# ssh options that take a value (ssh(1) synopsis): rsync may add "-l user"
WITH_VALUE = frozenset("BbcDEeFIiJLlmOopQRSWw")


def split_tail(words: list[str]) -> tuple[list[str], str, list[str]]:
    """(options, destination, command words) of what rsync appended."""
    i = 0
    while i < len(words) and words[i].startswith("-") and words[i] != "--":
        i += 2 if len(words[i]) == 2 and words[i][1] in WITH_VALUE else 1
    if i < len(words) and words[i] == "--":
        i += 1
    if i >= len(words):
        raise SystemExit("molq ssh relay: no destination in the arguments rsync passed")
    return words[:i], words[i], words[i + 1 :]


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:  # rsync sets its end of the pipe non-blocking: wait until it reads
            select.select([], [fd], [])


def relay(src: int, dst: int, *, keep_unframed: bool) -> None:
    """Copy ``src`` to ``dst`` from the first begin marker on; without a marker, all
    of it when ``keep_unframed``, else nothing."""
    head = b""
    framed = False
    try:
        while True:
            chunk = os.read(src, 1 << 16)
            if not chunk:
                break
            if framed:
                _write(dst, chunk)
                continue
            head += chunk
            at = head.find(BEGIN)
            if at >= 0:
                framed = True
                _write(dst, head[at + len(BEGIN) :])
                head = b""
        if not framed and keep_unframed:
            _write(dst, head)
    except BrokenPipeError:
        pass  # rsync stopped reading: it has ended or is ending


def main(argv: list[str]) -> int:
    count = int(argv[0])
    ssh, tail = argv[1 : 1 + count], argv[1 + count :]
    options, destination, command = split_tail(tail)
    # ssh itself would join the command words with blanks for the remote shell
    remote = "\\exec /bin/sh -c " + shlex.quote(PRINT_BEGIN + " ".join(command))
    proc = subprocess.Popen([*ssh, *options, "--", destination, remote], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    errors = threading.Thread(target=relay, args=(proc.stderr.fileno(), 2), kwargs={"keep_unframed": True}, daemon=True)
    errors.start()
    relay(proc.stdout.fileno(), 1, keep_unframed=False)
    proc.stdout.close()  # after a broken pipe to rsync, ssh must not block on writing to us
    status = proc.wait()
    errors.join()
    return status if status >= 0 else 255  # killed: what ssh itself says when it fails


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

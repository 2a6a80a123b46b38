"""A reader for the YAML that molq config files are written in.

Why not PyYAML: it is not a molq dependency, and a config file only needs a
small part of YAML -- the part the original molq's docs write and
``yaml.safe_dump`` produces: block mappings and lists (a list may sit at its
key's indentation), ``[a, b]`` and ``{k: v}`` flow collections (over several
lines too), plain, 'single' and "double" quoted scalars, comments, and a
leading ``---``. Plain scalars resolve as PyYAML's ``safe_load`` resolves them
(YAML 1.1: ``yes``/``no``/``on``/``off`` are booleans, ``~`` is null, ``0755``
is octal). Anything else (anchors, tags, block scalars, several documents) is
a ``YamlError`` naming the line, never a silent misreading.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["YamlError", "loads"]


class YamlError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


_NULL = {"", "~", "null", "Null", "NULL"}
_TRUE = {"yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"}
_FALSE = {"no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"}
_INT = re.compile(r"[-+]?(0|[1-9][0-9_]*)$")
_OCT = re.compile(r"[-+]?0[0-7_]+$")
_HEX = re.compile(r"[-+]?0x[0-9a-fA-F_]+$")
_BIN = re.compile(r"[-+]?0b[01_]+$")
_FLOAT = re.compile(r"[-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+][0-9]+)?$")
_SEXAGESIMAL = re.compile(r"[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+$")
_INF = re.compile(r"[-+]?\.(inf|Inf|INF)$")
_NAN = re.compile(r"\.(nan|NaN|NAN)$")
_UNSUPPORTED = {
    "&": "anchors",
    "*": "aliases",
    "!": "tags",
    "|": "block scalars",
    ">": "block scalars",
    "%": "directives",
    "@": "reserved characters",
    "`": "reserved characters",
}
_ESCAPES = {
    "0": "\0",
    "a": "\a",
    "b": "\b",
    "t": "\t",
    "\t": "\t",
    "n": "\n",
    "v": "\v",
    "f": "\f",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "/": "/",
    "\\": "\\",
    "N": "\x85",
    "_": "\xa0",
}


def _sign(text: str) -> tuple[int, str]:
    if text[:1] in "+-":
        return (-1 if text[0] == "-" else 1), text[1:]
    return 1, text


def _plain(text: str) -> Any:
    """A plain scalar as YAML 1.1 (PyYAML's safe_load) types it."""
    if text in _NULL:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    digits = text.replace("_", "")
    if _INT.match(text):
        return int(digits)
    if _HEX.match(text):
        sign, body = _sign(digits)
        return sign * int(body, 16)
    if _BIN.match(text):
        sign, body = _sign(digits)
        return sign * int(body, 2)
    if _OCT.match(text):
        sign, body = _sign(digits)
        return sign * int(body, 8)
    if _SEXAGESIMAL.match(text):
        sign, body = _sign(digits)
        value = 0
        for part in body.split(":"):
            value = value * 60 + int(part)
        return sign * value
    if _FLOAT.match(text) and any(c.isdigit() for c in text):
        return float(digits)
    if _INF.match(text):
        return float("-inf") if text.startswith("-") else float("inf")
    if _NAN.match(text):
        return float("nan")
    return text


class _Scanner:
    """Reads one scalar or flow collection from ``text`` (one logical line)."""

    def __init__(self, text: str, line: int) -> None:
        self.text, self.pos, self.line = text, 0, line

    def fail(self, message: str) -> YamlError:
        return YamlError(self.line, message)

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1

    def at_end(self) -> bool:
        self.skip_space()
        return self.pos >= len(self.text) or self.text[self.pos] == "#"

    def value(self, flow: bool) -> Any:
        self.skip_space()
        if self.pos >= len(self.text):
            return None
        first = self.text[self.pos]
        if first == "[":
            return self.sequence()
        if first == "{":
            return self.mapping()
        if first in "\"'":
            return self.quoted()
        if first in _UNSUPPORTED:
            raise self.fail(f"{_UNSUPPORTED[first]} ({first!r}) are not supported in molq config files")
        return _plain(self.plain(flow, key=False))

    def plain(self, flow: bool, *, key: bool) -> str:
        start, text = self.pos, self.text
        while self.pos < len(text):
            c = text[self.pos]
            if c == "#" and self.pos > start and text[self.pos - 1] in " \t":
                break
            if flow and c in ",[]{}":
                break
            if key and c == ":" and (self.pos + 1 >= len(text) or text[self.pos + 1] in " \t,]}"):
                break
            self.pos += 1
        return text[start : self.pos].strip(" \t")

    def quoted(self) -> str:
        quote, text = self.text[self.pos], self.text
        self.pos += 1
        out: list[str] = []
        while True:
            if self.pos >= len(text):
                raise self.fail(f"unterminated {quote}quoted{quote} string")
            c = text[self.pos]
            if c == quote:
                if quote == "'" and text[self.pos + 1 : self.pos + 2] == "'":
                    out.append("'")
                    self.pos += 2
                    continue
                self.pos += 1
                return "".join(out)
            if c == "\\" and quote == '"':
                self.pos += 1
                code = text[self.pos : self.pos + 1]
                widths = {"x": 2, "u": 4, "U": 8}
                if code in widths:
                    digits = text[self.pos + 1 : self.pos + 1 + widths[code]]
                    if len(digits) != widths[code] or not all(d in "0123456789abcdefABCDEF" for d in digits):
                        raise self.fail(f"bad escape \\{code}{digits}")
                    out.append(chr(int(digits, 16)))
                    self.pos += 1 + widths[code]
                    continue
                if code not in _ESCAPES:
                    raise self.fail(f"unknown escape \\{code}")
                out.append(_ESCAPES[code])
                self.pos += 1
                continue
            out.append(c)
            self.pos += 1

    def expect(self, char: str) -> None:
        self.skip_space()
        if self.text[self.pos : self.pos + 1] != char:
            found = self.text[self.pos : self.pos + 10] or "the end of the line"
            raise self.fail(f"expected {char!r} at {found!r}")
        self.pos += 1

    def sequence(self) -> list[Any]:
        self.expect("[")
        items: list[Any] = []
        while True:
            self.skip_space()
            if self.text[self.pos : self.pos + 1] == "]":
                self.pos += 1
                return items
            items.append(self.value(flow=True))
            self.skip_space()
            if self.text[self.pos : self.pos + 1] == ",":
                self.pos += 1
            elif self.text[self.pos : self.pos + 1] != "]":
                raise self.fail("expected ',' or ']' in a [...] list")

    def mapping(self) -> dict[Any, Any]:
        self.expect("{")
        items: dict[Any, Any] = {}
        while True:
            self.skip_space()
            if self.text[self.pos : self.pos + 1] == "}":
                self.pos += 1
                return items
            key = self.key(flow=True)
            self.skip_space()
            if self.text[self.pos : self.pos + 1] == ":":
                self.pos += 1
                items[key] = self.value(flow=True)
            else:
                items[key] = None
            self.skip_space()
            if self.text[self.pos : self.pos + 1] == ",":
                self.pos += 1
            elif self.text[self.pos : self.pos + 1] != "}":
                raise self.fail("expected ',' or '}' in a {...} mapping")

    def key(self, flow: bool) -> Any:
        self.skip_space()
        if self.text[self.pos : self.pos + 1] in ("'", '"'):
            return self.quoted()
        if self.text[self.pos : self.pos + 1] in _UNSUPPORTED or self.text[self.pos : self.pos + 1] == "?":
            raise self.fail(f"unsupported key syntax at {self.text[self.pos : self.pos + 10]!r}")
        text = self.plain(flow, key=True)
        return _plain(text)


def _scan_quotes(text: str) -> list[bool]:
    """For each character of ``text``, whether it lies inside a quoted scalar."""
    inside = [False] * len(text)
    quote, i = None, 0
    while i < len(text):
        c = text[i]
        if quote:
            inside[i] = True
            if quote == '"' and c == "\\":
                if i + 1 < len(text):
                    inside[i + 1] = True
                i += 2
                continue
            if c == quote:
                if quote == "'" and text[i + 1 : i + 2] == "'":  # '' is a quote inside '...'
                    inside[i + 1] = True
                    i += 2
                    continue
                quote = None
        elif c in "\"'" and (i == 0 or text[i - 1] in " \t[{,:-"):
            quote = c
            inside[i] = True
        i += 1
    return inside


def _strip_comment(text: str) -> str:
    """``text`` without a trailing ``# comment`` (a ``#`` inside quotes stays)."""
    inside = _scan_quotes(text)
    for i, c in enumerate(text):
        if c == "#" and not inside[i] and (i == 0 or text[i - 1] in " \t"):
            return text[:i].rstrip(" \t")
    return text.rstrip(" \t")


_FLOW_VALUE = re.compile(r"""^(-[ ]+)*("[^"]*"[ ]*:[ ]+|'[^']*'[ ]*:[ ]+|[^\s"'\[{][^#]*?:[ ]+)?[\[{]""")


def _open_brackets(text: str) -> int:
    """How many ``[``/``{`` a line leaves open, when its value is a flow collection."""
    if not _FLOW_VALUE.match(text):
        return 0
    inside = _scan_quotes(text)
    depth = 0
    for i, c in enumerate(text):
        if not inside[i]:
            depth += (c in "[{") - (c in "]}")
    return depth


class _Line:
    __slots__ = ("number", "indent", "text")

    def __init__(self, number: int, indent: int, text: str) -> None:
        self.number, self.indent, self.text = number, indent, text

    @property
    def is_item(self) -> bool:
        return self.text == "-" or self.text.startswith("- ")


def _lines(source: str) -> list[_Line]:
    # only \n and \r\n end a line (str.splitlines would also split at \x85 and \u2028 inside quotes)
    raw = [line[:-1] if line.endswith("\r") else line for line in source.split("\n")]
    lines: list[_Line] = []
    i = 0
    while i < len(raw):
        number, text = i + 1, raw[i]
        i += 1
        body = text.lstrip(" ")
        if body.startswith("\t"):
            raise YamlError(number, "a tab indents this line; YAML indents with spaces")
        body = _strip_comment(body)
        if not body:
            continue
        indent = len(text) - len(text.lstrip(" "))
        if indent == 0 and body in ("---", "..."):
            if lines:
                raise YamlError(number, "several YAML documents in one file are not supported")
            continue
        # a [...] or {...} value may go on over the next lines
        while _open_brackets(body) > 0 and i < len(raw):
            body += " " + _strip_comment(raw[i].strip(" \t"))
            i += 1
        lines.append(_Line(number, indent, body))
    return lines


class _Parser:
    def __init__(self, lines: list[_Line]) -> None:
        self.lines = lines
        self.i = 0

    def peek(self) -> _Line | None:
        return self.lines[self.i] if self.i < len(self.lines) else None

    def block(self, indent: int) -> Any:
        line = self.peek()
        assert line is not None
        if line.is_item:
            return self.sequence(line.indent)
        if self._split(line) is None:  # a lone scalar or flow collection
            self.i += 1
            return self.scalar(line.text, line.number)
        return self.mapping(line.indent)

    def scalar(self, text: str, number: int) -> Any:
        scanner = _Scanner(text, number)
        value = scanner.value(flow=False)
        if not scanner.at_end():
            raise YamlError(number, f"unexpected text after the value: {text[scanner.pos :]!r}")
        return value

    def _split(self, line: _Line) -> tuple[Any, str] | None:
        """(key, rest) of a ``key: value`` line, or None if the line is no mapping entry."""
        scanner = _Scanner(line.text, line.number)
        if line.text[:1] in "[{":
            return None
        if line.text[:1] in "\"'":
            try:
                key = scanner.quoted()
            except YamlError:
                return None
        else:
            if line.text[:1] in _UNSUPPORTED or line.text.startswith("? "):
                raise YamlError(line.number, f"unsupported syntax: {line.text[:20]!r}")
            key = _plain(scanner.plain(False, key=True))
        scanner.skip_space()
        if line.text[scanner.pos : scanner.pos + 1] != ":":
            return None
        rest = line.text[scanner.pos + 1 :]
        if rest and rest[0] not in " \t":
            return None
        return key, rest.strip(" \t")

    def mapping(self, indent: int) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        while True:
            line = self.peek()
            if line is None or line.indent < indent:
                return out
            if line.indent > indent:
                raise YamlError(line.number, "this line is indented more than the entries before it")
            if line.is_item:
                raise YamlError(line.number, "a list item where a 'key: value' entry was expected")
            split = self._split(line)
            if split is None:
                raise YamlError(line.number, f"expected 'key: value', got {line.text!r}")
            key, rest = split
            self.i += 1
            if rest:
                out[key] = self.scalar(rest, line.number)
                continue
            following = self.peek()
            if following is not None and (
                following.indent > indent or (following.indent == indent and following.is_item)
            ):
                out[key] = self.block(following.indent)
            else:
                out[key] = None

    def sequence(self, indent: int) -> list[Any]:
        out: list[Any] = []
        while True:
            line = self.peek()
            if line is None or line.indent < indent or (line.indent == indent and not line.is_item):
                return out
            if line.indent > indent or not line.is_item:
                raise YamlError(line.number, "expected a '- ' list item at this indentation")
            rest = line.text[1:].lstrip(" ")
            if not rest:
                self.i += 1
                following = self.peek()
                out.append(
                    self.block(following.indent) if following is not None and following.indent > indent else None
                )
                continue
            # "- key: value" or "- - x": the rest is a block of its own, indented to where it starts
            offset = indent + len(line.text) - len(rest)
            self.lines[self.i] = _Line(line.number, offset, rest)
            out.append(self.block(offset))


def loads(source: str) -> Any:
    """The document in ``source`` as dicts, lists and scalars (None for an empty one)."""
    lines = _lines(source)
    if not lines:
        return None
    parser = _Parser(lines)
    value = parser.block(lines[0].indent)
    leftover = parser.peek()
    if leftover is not None:
        raise YamlError(leftover.number, f"unexpected line {leftover.text!r} (check its indentation)")
    return value

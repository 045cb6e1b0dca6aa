"""Line numbers of keys in TOML text, which tomllib does not give: for errors that name file:line."""

from __future__ import annotations

import re


class Locator:
    """Line numbers of keys and table headers, which tomllib does not give. Approximate by design:
    a key inside an inline table or an array of tables resolves to its enclosing key or header."""

    _HEADER = re.compile(r"\s*\[\[?\s*([^\]]+?)\s*\]")
    _KEY = re.compile(r"""\s*((?:[\w-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[\w-]+|"[^"]*"|'[^']*'))*)\s*=""")
    _PART = re.compile(r"""[\w-]+|"([^"]*)"|'([^']*)'""")
    _NOISE = re.compile(r""""(?:\\.|[^"\\])*"|'[^']*'|#.*""")  # strings and comments, whose brackets don't count

    def __init__(self, text: str) -> None:
        self.lines: dict[tuple[str, ...], int] = {}
        table: tuple[str, ...] = ()
        count: dict[tuple[str, ...], int] = {}
        in_string, depth = False, 0  # inside a multi-line string / array, where a line is a value, not a key
        for number, line in enumerate(text.splitlines(), 1):
            quotes = line.count('"""') + line.count("'''")
            if in_string:
                in_string = quotes % 2 == 0
                continue
            in_string = quotes % 2 == 1
            if depth > 0:
                depth = max(0, depth + self._brackets(line))
            elif key := self._KEY.match(line):
                self.lines.setdefault(table + self._split(key.group(1)), number)
                depth = max(0, self._brackets(line[key.end() :]))
            elif header := self._HEADER.match(line):
                table = self._split(header.group(1))
                self.lines.setdefault(table, number)
                if line.lstrip().startswith("[["):  # an array of tables: its n-th element is table + ("[n]",)
                    count[table] = count.get(table, 0) + 1
                    table = (*table, f"[{count[table]}]")
                    self.lines[table] = number

    def _brackets(self, value: str) -> int:
        bare = self._NOISE.sub("", value)
        return bare.count("[") - bare.count("]")

    def _split(self, dotted: str) -> tuple[str, ...]:
        return tuple(m.group(1) or m.group(2) or m.group(0) for m in self._PART.finditer(dotted))

    def line(self, path: tuple[str, ...]) -> int | None:
        """The line of the key, else of the nearest enclosing key or header that appears in the text."""
        for n in range(len(path), 0, -1):
            if path[:n] in self.lines:
                return self.lines[path[:n]]
        return None

"""Settings as data, one way for the hub and the edge: each program's frozen dataclass is its table of settings.

A field made with `setting()` carries its default, help and range, and its annotation is its type, so
`config.longpoll_s` stays typed. `SettingsTable` reads a TOML file into that dataclass, refuses an unknown key, a
wrong type or a value out of range with one sentence naming the key and the file, and renders docs/settings.md.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import math
import tomllib
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Generic, TypeVar

CONFIG_FILE = "config.toml"  # DATA/config.toml, read when no `--config FILE` is given
_SPEC = "villagenet.setting"  # the key of a field's metadata that makes it a setting
_TYPE_WORDS = {str: "text", int: "an integer", float: "a number", bool: "true or false"}

C = TypeVar("C")


class ConfigError(ValueError):
    """A settings file or value was refused; the message is one sentence naming the key and where it came from."""


@dataclasses.dataclass(frozen=True)
class Setting:
    name: str
    type: type  # str, int, float or bool; a float setting takes an integer too (TOML `20` for 20.0)
    optional: bool  # may stay unset (None); TOML has no null, so a file can only give it a value
    default: Any
    help: str
    greater_than: float | None = None
    at_least: float | None = None
    at_most: float | None = None
    check: Callable[[Any], object] | None = None  # raises ValueError("must be ...") for a bad value

    def range_words(self) -> str:
        parts = [f"greater than {self.greater_than:g}" if self.greater_than is not None else "",
                 f"at least {self.at_least:g}" if self.at_least is not None else "",
                 f"at most {self.at_most:g}" if self.at_most is not None else ""]
        return " and ".join(p for p in parts if p)


@dataclasses.dataclass(frozen=True)
class _Spec:
    help: str
    greater_than: float | None
    at_least: float | None
    at_most: float | None
    check: Callable[[Any], object] | None


def setting(default: Any, help: str, *, greater_than: float | None = None, at_least: float | None = None,
            at_most: float | None = None, check: Callable[[Any], object] | None = None) -> Any:
    """A dataclass field that is a setting. Returns Any like `dataclasses.field`, so the annotation types it."""
    return dataclasses.field(default=default, metadata={_SPEC: _Spec(help, greater_than, at_least, at_most, check)})


def parse_listen(text: str) -> tuple[str, int]:
    """HOST:PORT, with [v6]:PORT for IPv6 addresses."""
    host, sep, port = text.rpartition(":")
    if not sep or not host.strip("[]") or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"must be HOST:PORT such as 0.0.0.0:8600, not {text!r}")
    return host.strip("[]"), int(port)


class ServesOnListen:
    """For a program whose settings have `listen`: the one way to get the host and port it serves on."""

    listen: str

    @property
    def listen_host_port(self) -> tuple[str, int]:
        return parse_listen(self.listen)


class SettingsTable(Generic[C]):
    """The settings of one program, read from its frozen dataclass `config_type(data_dir=..., **settings)`."""

    def __init__(self, program: str, config_type: type[C]) -> None:
        self.program = program
        self._make: Callable[..., C] = config_type
        hints = typing.get_type_hints(config_type)
        self.settings = tuple(_from_field(f, hints[f.name]) for f in dataclasses.fields(config_type)  # type: ignore[arg-type]
                              if _SPEC in f.metadata)
        self._by_name = {s.name: s for s in self.settings}
        # A default that breaks its own rules fails here, at import, not at a customer site.
        self.checked({s.name: s.default for s in self.settings if s.default is not None}, f"{program}'s defaults")

    def load(self, data_dir: Path, config_file: Path | None = None, *, overrides_from: str = "overrides",
             **overrides: Any) -> C:
        """Defaults, then `config_file` (else DATA/config.toml when present), then `overrides` (None is skipped)."""
        values: dict[str, Any] = {}
        path = config_file if config_file is not None else data_dir / CONFIG_FILE
        if config_file is not None or path.exists():
            values.update(self.checked(read_toml(path), str(path)))
        values.update(self.checked({k: v for k, v in overrides.items() if v is not None}, overrides_from))
        return self._make(data_dir=data_dir, **values)

    def checked(self, raw: Mapping[str, Any], where: str) -> dict[str, Any]:
        return {name: self._checked_value(name, value, where) for name, value in raw.items()}

    def _checked_value(self, name: str, value: Any, where: str) -> Any:
        s = self._by_name.get(name)
        if s is None:
            close = difflib.get_close_matches(name, self._by_name, n=1)
            hint = f'did you mean "{close[0]}"?' if close else "docs/settings.md lists the known ones."
            raise ConfigError(f'{where}: "{name}" is not a setting of {self.program}; {hint}')
        if s.type is float and type(value) is int:
            value = float(value)
        # type() and not isinstance(): a TOML `true` is no integer here.
        if type(value) is not s.type:
            raise ConfigError(f'{where}: "{name}" must be {_TYPE_WORDS[s.type]}, not {_describe(value)}.')
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f'{where}: "{name}" must be a finite number, not {value}.')
        if isinstance(value, int | float) and not _in_range(value, s):
            raise ConfigError(f'{where}: "{name}" must be {s.range_words()}, not {value!r}.')
        if s.check is not None:
            try:
                s.check(value)
            except ValueError as exc:
                raise ConfigError(f'{where}: "{name}" {exc}.') from exc
        return value

    def help_text(self) -> str:
        """For `--help`: one line per setting."""
        return "\n".join(f"  {s.name} (default {_toml(s.default)}): {s.help}" for s in self.settings)

    def markdown(self) -> str:
        rows = [f"## `{self.program}`", "", "| name | type | default | meaning |", "| --- | --- | --- | --- |"]
        for s in self.settings:
            kind = _TYPE_WORDS[s.type].removeprefix("an ").removeprefix("a ")
            if s.range_words():
                kind += f", {s.range_words()}"
            if s.optional:
                kind += ", optional"
            meaning = s.help.replace("|", "\\|")  # a bar would end the Markdown cell
            rows.append(f"| `{s.name}` | {kind} | {_default_words(s.default)} | {meaning} |")
        return "\n".join(rows) + "\n"


def read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such settings file.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} cannot be read as a UTF-8 settings file: {exc}.") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}.") from exc


def _from_field(f: dataclasses.Field[Any], hint: Any) -> Setting:
    spec: _Spec = f.metadata[_SPEC]
    kind, optional = hint, False
    if isinstance(hint, types.UnionType) and len(hint.__args__) == 2 and type(None) in hint.__args__:
        kind, optional = next(a for a in hint.__args__ if a is not type(None)), True
    if kind not in _TYPE_WORDS:
        raise TypeError(f"setting {f.name}: type {hint} is not one of str, int, float, bool (or X | None)")
    return Setting(f.name, kind, optional, f.default, spec.help, spec.greater_than, spec.at_least, spec.at_most,
                   spec.check)


def _in_range(value: float, s: Setting) -> bool:
    return ((s.greater_than is None or value > s.greater_than) and (s.at_least is None or value >= s.at_least)
            and (s.at_most is None or value <= s.at_most))


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f'the text "{value}"'
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, datetime.date | datetime.time):
        return f"the date/time {value}"
    return repr(value)


def _toml(value: Any) -> str:
    """A default as it would be written in the TOML file."""
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def _default_words(value: Any) -> str:
    """For the docs: the TOML literal, and a readable size for a large byte count."""
    if value is None:
        return "(none)"
    words = f"`{_toml(value)}`"
    if type(value) is int and value >= 1024:
        for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
            if value % size == 0:
                return f"{words} ({value // size} {unit})"
    return words

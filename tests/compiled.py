"""Work every app object of a test run would repeat: compiling the templates, the URL rules
and the SQL statements.

Production builds one app per process, so compiling these on start-up or on first use costs
nothing there. The suite builds one (or several) per test, and compiling some sixty templates,
a hundred URL builders and every statement a test runs again each time was most of the run.
The caches below key the compiled code by everything it is compiled from, so a test sees
exactly what a new app would build; a template edited during the run is compiled again (Jinja
compares the source's checksum). This module is a plugin of tests/conftest.py: importing it
installs the caches.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import BuiltinFunctionType, FunctionType, ModuleType
from typing import Any

from flask import Flask
from jinja2 import Environment
from jinja2.bccache import Bucket, BytecodeCache
from sqlalchemy import util
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import Mapper
from werkzeug.routing.rules import Rule


class SharedTemplateCache(BytecodeCache):
    """Jinja's bytecode cache, in memory and shared by every Jinja environment of the process.

    Compiled code depends on the environment's syntax options and extensions as well as the
    template's source, so those are part of the key.
    """

    def __init__(self) -> None:
        self._code: dict[tuple, Any] = {}

    @staticmethod
    def _options(environment: Environment) -> tuple:
        return (tuple(sorted(environment.extensions)), environment.block_start_string,
                environment.block_end_string, environment.variable_start_string,
                environment.variable_end_string, environment.comment_start_string,
                environment.comment_end_string, environment.line_statement_prefix,
                environment.line_comment_prefix, environment.trim_blocks,
                environment.lstrip_blocks, environment.newline_sequence,
                environment.keep_trailing_newline, environment.optimized, environment.is_async)

    def _key(self, bucket: Bucket) -> tuple:
        return self._options(bucket.environment), bucket.key, bucket.checksum

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(self._key(bucket))
        if code is not None:
            bucket.code = code

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[self._key(bucket)] = bucket.code


_builders: dict[tuple, Callable] = {}
_builders_lock = threading.Lock()
_compile_builder = Rule._compile_builder


def _shared_builder(self: Rule, append_unknown: bool = True) -> Callable:
    """Werkzeug compiles two URL builders per rule from the rule's parsed parts and defaults
    (converters are looked up on the rule when a URL is built, except for defaults, which are
    converted once); equal inputs give equal functions, so they are compiled once per run."""
    defaults = self.defaults or {}
    key = (tuple(self._trace), append_unknown,
           tuple(sorted((str(k), repr(v)) for k, v in defaults.items())),
           tuple((name, type(self._converters[name]).__qualname__)
                 for name in sorted(defaults) if name in self._converters))
    found = _builders.get(key)
    if found is None:
        found = _compile_builder(self, append_unknown)
        with _builders_lock:
            _builders.setdefault(key, found)
    return found


def dialect_signature(dialect: Dialect) -> tuple:
    """What a statement compiled for this dialect depends on, equal for two dialects that
    compile alike: the class and the settings the dialect's first connection filled in (the
    server's version, its features, the default schema…). Plain values count by value, modules
    and functions (the DBAPI, a JSON serializer) by identity, helper objects the dialect builds
    for itself (its identifier preparer, type compiler) by class."""
    parts = []
    for name, value in sorted(vars(dialect).items()):
        if value is None or isinstance(value, (str, int, float, bool, tuple, frozenset)):
            parts.append((name, value))
        elif isinstance(value, (ModuleType, FunctionType, BuiltinFunctionType, type)):
            parts.append((name, id(value)))
        else:
            parts.append((name, type(value)))
    return type(dialect), tuple(parts)


class SharedStatements:
    """A compiled-statement cache for every engine of the run, in place of one per engine.

    SQLAlchemy keys a compiled statement by the dialect object among other things, and each
    app object has an engine with a dialect of its own: every test compiled every statement it
    ran afresh (and the ORM's flushes, cached per mapper, too). Keyed here by the dialect's
    signature instead, a statement is compiled once per run for each kind of database.
    """

    def __init__(self, size: int) -> None:
        self._compiled = util.LRUCache(size)

    @staticmethod
    def _key(key: tuple) -> tuple:
        return (dialect_signature(key[0]), *key[1:])

    def get(self, key: tuple, default: Any = None) -> Any:
        return self._compiled.get(self._key(key), default)

    def __getitem__(self, key: tuple) -> Any:
        return self._compiled[self._key(key)]

    def __setitem__(self, key: tuple, compiled: Any) -> None:
        self._compiled[self._key(key)] = compiled

    def __len__(self) -> int:
        return len(self._compiled)

    def clear(self) -> None:  # Engine.clear_compiled_cache()
        self._compiled.clear()


_statements = SharedStatements(20_000)


def _engine_statements(engine: Engine) -> SharedStatements | None:
    return _statements if engine.__dict__.get("_caches_statements", True) else None


def _engine_caches(engine: Engine, cache: Any) -> None:
    """Engine.__init__ sets its own LRU cache here, or None for query_cache_size=0: only
    whether it caches at all is kept."""
    engine.__dict__["_caches_statements"] = cache is not None


Flask.jinja_options = {**Flask.jinja_options, "bytecode_cache": SharedTemplateCache()}
Rule._compile_builder = _shared_builder  # type: ignore[method-assign]
Engine._compiled_cache = property(_engine_statements, _engine_caches)  # type: ignore[assignment]
# The ORM caches its flush statements per mapper (a mapper outlives every app of the run).
Mapper._compiled_cache = property(lambda mapper: _statements)  # type: ignore[assignment]

"""Work every app object of a test run would repeat: compiling the templates and the URL rules.

Production builds one app per process, so compiling both on start-up costs nothing there. The
suite builds one (or several) per test, and compiling some sixty templates and a hundred URL
builders again each time was a large part of the run. Both caches below key the compiled code
by everything it is compiled from, so a test sees exactly what a new app would build; a
template edited during the run is compiled again (Jinja compares the source's checksum).
This module is a plugin of tests/conftest.py: importing it installs both caches.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask import Flask
from jinja2 import Environment
from jinja2.bccache import Bucket, BytecodeCache
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


Flask.jinja_options = {**Flask.jinja_options, "bytecode_cache": SharedTemplateCache()}
Rule._compile_builder = _shared_builder  # type: ignore[method-assign]

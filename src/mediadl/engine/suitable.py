"""Whether an extractor's own ``suitable()`` can say yes only when its URL pattern matches.

yt-dlp's base ``suitable`` is the match of ``_VALID_URL``. About 75 extractors (YouTube's tabs,
Twitch, BBC, NRK, …) override it, nearly all to turn down links another extractor takes:
``False if OtherIE.suitable(url) else super().suitable(url)``. For those the pattern's required
substrings still hold whenever the answer is yes, so the URL index (:mod:`mediadl.engine.urlindex`)
can rule them out like the others. :func:`needs_own_match` reads each override's source and says
so only for shapes that provably need the match; anything else keeps the extractor always asked.
:func:`fingerprint` names the overrides' code, so a cached index is rebuilt when they change.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import textwrap
import types

__all__ = ["base_method", "default_suitable", "fingerprint", "needs_own_match"]


_BASES = frozenset({"InfoExtractor", "LazyLoadExtractor"})


def default_suitable(ie: type) -> bool:
    """Whether ``suitable`` and ``_match_valid_url`` are yt-dlp's (lazy or real) base versions."""
    return base_method(ie, "suitable") and base_method(ie, "_match_valid_url")


def base_method(ie: type, name: str) -> bool:
    owner = next((k for k in ie.__mro__ if name in k.__dict__), None)
    return owner is not None and owner.__name__ in _BASES


def _own_suitables(ie: type) -> list[object]:
    """The ``suitable`` methods ``ie`` and its parents define above yt-dlp's base ones."""
    found = []
    for klass in ie.__mro__:
        if klass.__name__ in _BASES:
            break
        if "suitable" in klass.__dict__:
            found.append(klass.__dict__["suitable"])
    return found


def needs_own_match(ie: type) -> bool:
    """Whether every ``suitable`` ``ie`` defines says yes only when ``ie``'s pattern matches.

    Read from their source: each ``return`` must give something false, or an expression that is
    true only with ``super().suitable(url)`` or ``cls._match_valid_url(url)`` (which reach yt-dlp's
    base ``suitable``, the pattern's match, with ``cls`` still ``ie``), and neither ``cls`` nor
    ``url`` is rebound. False for anything else, or when the source can't be read.
    """
    methods = _own_suitables(ie)
    try:
        return bool(methods) and all(_reads_match(m) for m in methods)
    except (OSError, TypeError, SyntaxError, ValueError):
        return False


def _reads_match(method: object) -> bool:
    func = getattr(method, "__func__", None)
    if not isinstance(method, classmethod) or func is None:
        return False
    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    definition = tree.body[0]
    if not isinstance(definition, ast.FunctionDef) or len(definition.args.args) != 2:
        return False
    klass, url = (a.arg for a in definition.args.args)
    for node in ast.walk(definition):
        if isinstance(node, ast.Name) and node.id in (klass, url) and not _loaded(node):
            return False  # rebinds cls or url
        nested = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        if nested and node is not definition:
            return False
        if isinstance(node, ast.Return) and not _true_only_on_match(node.value, klass, url):
            return False
    return True


def _loaded(node: ast.Name) -> bool:
    return isinstance(node.ctx, ast.Load)


def _true_only_on_match(expr: ast.expr | None, klass: str, url: str) -> bool:
    """Whether ``expr`` is true only when the extractor's own pattern matches ``url``."""
    if expr is None or (isinstance(expr, ast.Constant) and not expr.value):
        return True  # never true
    if isinstance(expr, ast.BoolOp):
        parts = [_true_only_on_match(v, klass, url) for v in expr.values]
        return any(parts) if isinstance(expr.op, ast.And) else all(parts)
    if isinstance(expr, ast.IfExp):
        body = _true_only_on_match(expr.body, klass, url)
        return body and _true_only_on_match(expr.orelse, klass, url)
    if (
        isinstance(expr, ast.Compare)
        and len(expr.ops) == 1
        and isinstance(expr.ops[0], ast.IsNot)
        and isinstance(expr.comparators[0], ast.Constant)
        and expr.comparators[0].value is None
    ):
        return _match_call(expr.left, klass, url)
    return _match_call(expr, klass, url)


def _match_call(expr: ast.expr, klass: str, url: str) -> bool:
    """``super().suitable(url)``, ``super(X, cls).suitable(url)`` or
    ``cls._match_valid_url(url)``."""
    if not (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and len(expr.args) == 1
        and not expr.keywords
        and isinstance(expr.args[0], ast.Name)
        and expr.args[0].id == url
    ):
        return False
    owner, name = expr.func.value, expr.func.attr
    if name == "_match_valid_url":
        return isinstance(owner, ast.Name) and owner.id == klass
    if name != "suitable" or not isinstance(owner, ast.Call) or owner.keywords:
        return False
    if not (isinstance(owner.func, ast.Name) and owner.func.id == "super"):
        return False
    args = owner.args
    return not args or (len(args) == 2 and isinstance(args[1], ast.Name) and args[1].id == klass)


def fingerprint(ie: type) -> str:
    """A digest of the code of ``ie``'s own ``suitable`` methods (``""``: only yt-dlp's)."""
    codes = [getattr(getattr(m, "__func__", m), "__code__", None) for m in _own_suitables(ie)]
    if not codes:
        return ""
    return hashlib.sha256(repr([_code_text(c) for c in codes]).encode()).hexdigest()[:16]


def _code_text(code: object) -> object:
    """What a code object does, the same in every process (a nested code object's repr names
    its address, so it is replaced by its own text)."""
    if not isinstance(code, types.CodeType):
        return repr(code)
    return (code.co_code, code.co_names, tuple(_code_text(c) for c in code.co_consts))

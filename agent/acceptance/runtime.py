"""Helpers of the generated acceptance checks, copied verbatim into ``acceptance_test.py``.

Standard library only: the checks run with the project's interpreter, which need not
have autopatch (or pytest) installed. ``python acceptance_test.py`` runs every
``test_*`` function and prints one JSON line of results; pytest collects the same file.
"""

import ast
import contextlib
import doctest
import fnmatch
import importlib
import inspect
import io
import json
import os
import re
import sys
import textwrap
import traceback
import warnings

RESULT_MARK = "AUTOPATCH-ACCEPTANCE "
WARNINGS = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)


def obj(dotted):
    """The object a dotted name stands for: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            value = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            if cut == 1:
                raise
            continue
        for i, attr in enumerate(parts[cut:]):
            try:
                value = getattr(value, attr)
            except AttributeError:
                where = ".".join(parts[: cut + i])
                raise AttributeError(f"{where} has no attribute {attr!r}") from None
        return value
    raise ImportError(dotted)


def has(dotted):
    """Does ``dotted`` resolve (deprecation warnings on the way are ignored)?"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            obj(dotted)
        except (ImportError, AttributeError):
            return False
    return True


def run_session(text, names, want="expected"):
    """Run a doctest-style session; ``want="wrong"`` passes when its output is no longer that."""
    globs = {}
    for name, dotted in names.items():
        if has(dotted):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                globs[name] = obj(dotted)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE | doctest.IGNORE_EXCEPTION_DETAIL
    test = doctest.DocTestParser().get_doctest(text, globs, "issue", "<issue>", 0)
    runner = doctest.DocTestRunner(optionflags=flags, verbose=False)
    report = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = runner.run(test, out=report.write, clear_globs=False)
    if want == "expected":
        assert result.failed == 0, (
            "the issue's example does not give what it expects:\n" + (report.getvalue()[-1500:])
        )
        return
    unusable = ("NameError", "ImportError", "ModuleNotFoundError", "SyntaxError")
    assert not any(u in report.getvalue() for u in unusable), (
        "the issue's example cannot run:\n" + report.getvalue()[-1500:]
    )
    assert result.failed > 0, "the example still gives the output the issue calls wrong:\n" + text


def warns_when_used(dotted, call=None, names=None):
    """Using ``dotted`` (``call``, else calling it with no arguments) emits a deprecation."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = obj(dotted)
        if call is not None:
            with contextlib.suppress(Exception):
                exec(call, {n: obj(d) for n, d in (names or {}).items() if has(d)})
        elif callable(value):
            args, kwargs = _placeholders(value)
            with contextlib.suppress(Exception):
                value(*args, **kwargs)
    found = [w for w in caught if issubclass(w.category, WARNINGS)]
    assert found, f"using {dotted} emits no DeprecationWarning"


def _namespace(names):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {n: obj(d) for n, d in names.items() if has(d)}


def raises(call, name, names):
    """Evaluating ``call`` raises the exception ``name`` (or emits the warning ``name``)."""
    env = _namespace(names)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            eval(call, env)
        except Exception as exc:
            kinds = [k.__name__ for k in type(exc).__mro__]
            assert name in kinds, f"{call} raised {type(exc).__name__}: {exc}, not {name}"
            return
    emitted = [k.__name__ for w in caught for k in w.category.__mro__]
    assert name in emitted, f"{call} raised nothing (expected {name})"


def returns(call, expected, names):
    """Evaluating ``call`` gives ``expected`` (a literal)."""
    got = eval(call, _namespace(names))
    want = ast.literal_eval(expected)
    assert got == want, f"{call} gave {got!r}, expected {want!r}"


def _placeholders(func):
    """``None`` for every required parameter, so that the body (and its warning) runs."""
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return [], {}
    args: list = []
    kwargs: dict = {}
    for p in sig.parameters.values():
        if p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.kind == p.KEYWORD_ONLY:
            kwargs[p.name] = None
        else:
            args.append(None)
    return args, kwargs


def signature(dotted):
    value = obj(dotted)
    return inspect.signature(value)


def params(dotted):
    return list(signature(dotted).parameters)


def keyword_only(dotted, names=None, after=None):
    """The named parameters (or every one after ``after``) are keyword-only."""
    sig = signature(dotted)
    plist = list(sig.parameters.values())
    if after is not None:
        names_ = [p.name for p in plist]
        assert after in names_, f"{dotted} has no parameter {after}: {names_}"
        rest = plist[names_.index(after) + 1 :]
        names = [p.name for p in rest if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    wrong = [
        n
        for n in names or []
        if n not in sig.parameters or sig.parameters[n].kind != inspect.Parameter.KEYWORD_ONLY
    ]
    assert not wrong, f"not keyword-only in {dotted}{sig}: {', '.join(wrong)}"


def positional_rejected(dotted, name):
    """Passing ``name`` by position raises ``TypeError`` (binding follows the call rules)."""
    sig = signature(dotted)
    plist = list(sig.parameters.values())
    before = [p for p in plist if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    names = [p.name for p in before]
    count = names.index(name) + 1 if name in names else len(names) + 1
    try:
        sig.bind(*([None] * count))
    except TypeError:
        return
    raise AssertionError(f"{dotted}{sig} accepts {name} by position")


def parameter_used(dotted, name):
    """The function's body reads the parameter (a parameter nobody uses changes nothing)."""
    func = inspect.unwrap(obj(dotted))
    if inspect.isclass(func):
        func = func.__init__
    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    fn = tree.body[0]
    body = fn.body if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) else []
    used = {
        n.id
        for stmt in body
        for n in ast.walk(stmt)
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    }
    assert name in used, f"the parameter {name} of {dotted} is never used in its body"


def no_params_matching(dotted, pattern):
    left = [p for p in params(dotted) if fnmatch.fnmatchcase(p.lstrip("*"), pattern)]
    assert not left, f"{dotted} still has {', '.join(left)}"


def doctest_lines(dotted):
    doc = inspect.getdoc(obj(dotted)) or ""
    return [x.strip()[3:] for x in doc.splitlines() if x.strip().startswith((">>>", "..."))]


def docstring_names_params(dotted):
    value = obj(dotted)
    doc = inspect.getdoc(value) or ""
    assert doc.strip(), f"{dotted} has no docstring"
    if inspect.isclass(value):
        value = value.__init__
    names = [
        p.name
        for p in inspect.signature(value).parameters.values()
        if p.name not in ("self", "cls")
    ]
    missing = [n for n in names if not re.search(rf"\b{re.escape(n)}\b", doc)]
    assert not missing, f"the docstring of {dotted} does not name {', '.join(missing)}"


def source_tree(dotted):
    """The parsed source of a module, class or function (decorators included)."""
    value = inspect.unwrap(obj(dotted))
    return ast.parse(textwrap.dedent(inspect.getsource(value)))


def decorators(dotted):
    """The decorator names of a function, method or class, read from its source."""
    node = source_tree(dotted).body[0]
    names = []
    for dec in getattr(node, "decorator_list", []):
        target = dec.func if isinstance(dec, ast.Call) else dec
        names.append(ast.unparse(target))
    return names


OLD_IDIOMS = {
    "fstring": "str.format() or % formatting",
    "builtin_generics": "typing.List/Dict/Set/Tuple/Type",
    "pathlib": "os.path",
    "typing_namedtuple": "collections.namedtuple",
}


def old_idiom_uses(dotted, idiom):
    """Lines of ``dotted`` that still use the idiom the issue asks to drop."""
    generics = {"List", "Dict", "Set", "FrozenSet", "Tuple", "Type", "DefaultDict", "Deque"}
    found = []
    for n in ast.walk(source_tree(dotted)):
        line = getattr(n, "lineno", 0)
        if idiom == "fstring":
            fmt = (
                isinstance(n, ast.Call)
                and isinstance(n.func, ast.Attribute)
                and n.func.attr == "format"
                and isinstance(n.func.value, ast.Constant)
                and isinstance(n.func.value.value, str)
            )
            pct = (
                isinstance(n, ast.BinOp)
                and isinstance(n.op, ast.Mod)
                and isinstance(n.left, ast.Constant)
                and isinstance(n.left.value, str)
            )
            if fmt or pct:
                found.append(line)
        elif idiom == "builtin_generics":
            name = (
                n.id if isinstance(n, ast.Name) else n.attr if isinstance(n, ast.Attribute) else ""
            )
            if name in generics:
                found.append(line)
        elif idiom == "pathlib":
            if isinstance(n, ast.Attribute) and ast.unparse(n).startswith("os.path."):
                found.append(line)
        elif idiom == "typing_namedtuple":
            call = isinstance(n, ast.Call) and ast.unparse(n.func).endswith("namedtuple")
            if call:
                found.append(line)
    return sorted(set(found))


def fully_annotated(dotted):
    """Every parameter (but self/cls) and the return of the function(s) carry annotations.

    For a class or module: its own public functions (and ``__init__``).
    """
    value = obj(dotted)
    if inspect.isfunction(value) or inspect.ismethod(value):
        funcs = [value]
    elif inspect.isclass(value):  # its own methods, not inherited ones
        prefix = value.__qualname__ + "."
        funcs = [f for f in vars(value).values() if inspect.isfunction(f)]
        funcs = [f for f in funcs if f.__qualname__.startswith(prefix)]
    else:  # a module: its own top-level functions
        funcs = [
            f
            for _, f in inspect.getmembers(value, inspect.isfunction)
            if f.__module__ == value.__name__ and "." not in f.__qualname__
        ]
    missing = []
    if not (inspect.isfunction(value) or inspect.ismethod(value)):
        funcs = [f for f in funcs if not f.__name__.startswith("_") or f.__name__ == "__init__"]
    for f in funcs:
        sig = inspect.signature(f)
        for p in sig.parameters.values():
            if p.name in ("self", "cls") or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            if p.annotation is inspect.Parameter.empty:
                missing.append(f"{f.__qualname__}({p.name})")
        if sig.return_annotation is inspect.Signature.empty and f.__name__ != "__init__":
            missing.append(f"{f.__qualname__} -> ?")
    assert not missing, "not annotated: " + ", ".join(missing[:10])


def project_on_path(root=None):
    """The repository (and its ``src/`` in a src layout) importable, as from its root."""
    root = root or os.getcwd()
    src = os.path.join(root, "src")
    layout = os.path.isdir(src) and any(
        os.path.isfile(os.path.join(src, d, "__init__.py")) for d in os.listdir(src)
    )
    for path in ([src] if layout else []) + [root]:
        if path not in sys.path:
            sys.path.insert(0, path)


def main():
    """Run every ``test_*`` function of the calling module; one JSON line of results."""
    project_on_path()
    module = sys.modules["__main__"]
    results = {}
    for name, func in list(vars(module).items()):
        if name.startswith("test_") and callable(func):
            try:
                func()
                results[name] = {"ok": True, "message": ""}
            except BaseException as exc:
                tb = traceback.format_exception_only(type(exc), exc)
                results[name] = {"ok": False, "message": "".join(tb).strip()[-2000:]}
    sys.stdout.write(RESULT_MARK + json.dumps(results) + "\n")
    return 0 if all(r["ok"] for r in results.values()) else 1

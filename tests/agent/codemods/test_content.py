"""Content codemods: edit, add_function/add_method, add_docstring, add_annotations,
add/remove_decorator and modernize (fstring, builtin_generics), as before/after strings,
plus slow runs on real projects (toolz, boltons) whose own tests must still pass."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

import agent.codemods.content  # noqa: F401  (registers the content ops)
from agent.codemods.apply import apply_operation
from agent.codemods.base import Applied, Failed, RepoFiles, Result, Skipped
from planner.spec import Operation


def repo(**files: str) -> RepoFiles:
    """An in-memory repository: keyword = module path with dots (``pkg.mod``)."""
    sources, modules = {}, {}
    for name, text in files.items():
        path = name.replace(".", "/") + ".py"
        sources[path] = textwrap.dedent(text).lstrip("\n")
        modules[path] = name
    return RepoFiles(root=Path("/nonexistent"), sources=sources, modules=modules)


def run(
    files: RepoFiles, op: str, target: str, params: Mapping[str, Any] | None = None, **slots: Any
) -> Result:
    return apply_operation(files, Operation(op, target, dict(params or {})), slots)


def applied(result: Result, path: str = "pkg/mod.py") -> str:
    assert isinstance(result, Applied), result
    return result.changes[path]


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


TWO_CLASSES = """
    import os


    class A:
        def run(self, x):
            # keep me
            return x + 1

        def other(self):
            return 2


    class B:
        def run(self, x):
            return x - 1
    """


# ---------------------------------------------------------------------------- locate


def test_missing_target_lists_close_names() -> None:
    files = repo(**{"pkg.mod": TWO_CLASSES})
    result = run(files, "edit", "pkg.mod.A.rum", source="def rum(self): pass")
    assert isinstance(result, Failed)
    assert "A.rum" in result.error and "pkg.mod.A.run" in result.error
    result = run(files, "edit", "pkg.mdo.A", source="class A: pass")
    assert isinstance(result, Failed) and "pkg.mod" in result.error


# ---------------------------------------------------------------------------- edit


def test_edit_replaces_only_the_named_method() -> None:
    files = repo(**{"pkg.mod": TWO_CLASSES})
    new = 'def run(self, x):\n    """Add two."""\n    return x + 2\n'
    out = applied(run(files, "edit", "pkg.mod.A.run", source=new))
    assert out == dedent(
        '''
        import os


        class A:
            def run(self, x):
                """Add two."""
                return x + 2

            def other(self):
                return 2


        class B:
            def run(self, x):
                return x - 1
        '''
    )


def test_edit_reindents_multiline_strings_and_keeps_decorators_and_comments() -> None:
    files = repo(
        **{
            "pkg.mod": """
            class A:
                # about f
                @staticmethod
                def f(x):
                    return x
            """
        }
    )
    new = 'def f(x):\n    """Doc.\n\n    More.\n    """\n    return x * 2\n'
    out = applied(run(files, "edit", "pkg.mod.A.f", source=new))
    assert out == dedent(
        '''
        class A:
            # about f
            @staticmethod
            def f(x):
                """Doc.

                More.
                """
                return x * 2
        '''
    )
    result = run(files, "edit", "pkg.mod.A.f", source=new)
    assert isinstance(result, Applied) and any("decorators" in n for n in result.notes)


def test_edit_uses_the_files_indent_unit() -> None:
    files = repo(**{"pkg.mod": "class A:\n\tdef f(self):\n\t\treturn 1\n"})
    src = "    def f(self):\n        if self:\n            return 3\n"
    out = applied(run(files, "edit", "pkg/mod.py:A.f", source=src))
    assert out == "class A:\n\tdef f(self):\n\t\tif self:\n\t\t\treturn 3\n"


def test_edit_adds_imports_after_existing_ones_without_duplicates() -> None:
    files = repo(**{"pkg.mod": "import os\n\nX = 1\n\n\ndef f():\n    return os.sep\n"})
    new = "```python\ndef f():\n    return json.dumps(os.sep)\n```"
    out = applied(run(files, "edit", "pkg.mod.f", source=new, imports=["import os", "import json"]))
    assert out.startswith("import os\nimport json\n\nX = 1\n")
    assert out.count("import os") == 1 and "json.dumps(os.sep)" in out


def test_edit_keeps_the_projects_spelling_of_unchanged_type_hints() -> None:
    """The model fixed the body and respelled `list[Any]` / `str | None` as `List[Any]` /
    `Optional[str]` with a new typing import: the hints keep the project's spelling and the
    import goes; a hint that names another type (`int` → `float`) is the model's change."""
    source = (
        "from typing import Any\n\n\n"
        "def pick(items: list[Any], name: str | None = None, n: int = 0) -> dict[str, Any]:\n"
        "    return {}\n"
    )
    new = (
        "def pick(items: List[Any], name: Optional[str] = None, n: float = 0) -> Dict[str, Any]:\n"
        "    if not items:\n"
        "        return {}\n"
        "    return {name or '': items[int(n)]}\n"
    )
    files = repo(**{"pkg.mod": source})
    imports = ["from typing import Dict, List, Optional", "import json"]
    out = applied(run(files, "edit", "pkg.mod.pick", source=new, imports=imports))
    assert (
        "def pick(items: list[Any], name: str | None = None, n: float = 0) -> dict[str, Any]:"
        in out
    )
    assert "List" not in out and "Optional" not in out and "import json" not in out
    assert "if not items:" in out


def test_type_hint_spellings_that_name_the_same_type() -> None:
    from agent.codemods.content.spelling import canonical

    assert canonical("List[Any]") == canonical("list[Any]")
    assert canonical("typing.Optional[Dict[str, int]]") == canonical("dict[str, int] | None")
    assert canonical("Union[int, str]") == canonical("int | str")
    assert canonical("'Tuple[int, ...]'") == canonical("tuple[int, ...]")
    assert canonical("list[int]") != canonical("list[str]")
    assert canonical("int") != canonical("float")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def run(self):\n    pass\n\ndef other(self):\n    pass\n", "def run, def other"),
        ("def walk(self, x):\n    return x\n", "defines `walk` but the target is `run`"),
        ("def run(self, x)\n    return x\n", "not valid Python"),
        ("class run:\n    pass\n", "needs a `def`"),
        ("", "empty"),
    ],
)
def test_edit_bad_sources_fail_with_what_to_send(source: str, expected: str) -> None:
    files = repo(**{"pkg.mod": TWO_CLASSES})
    result = run(files, "edit", "pkg.mod.A.run", source=source)
    assert isinstance(result, Failed)
    assert expected in result.error and "named `run`" in result.error


def test_edit_needs_a_definition_target() -> None:
    result = run(repo(**{"pkg.mod": TWO_CLASSES}), "edit", "pkg.mod", source="x = 1")
    assert isinstance(result, Failed) and "is a module" in result.error


# ---------------------------------------------------------------------------- add_function/method


def test_add_function_goes_before_main_guard() -> None:
    files = repo(**{"pkg.mod": 'def a():\n    return 1\n\n\nif __name__ == "__main__":\n    a()\n'})
    out = applied(
        run(files, "add_function", "pkg.mod", {"name": "b"}, source="def b():\n    return a()\n")
    )
    assert out == dedent(
        """
        def a():
            return 1


        def b():
            return a()


        if __name__ == "__main__":
            a()
        """
    )


def test_add_function_refuses_existing_or_misnamed() -> None:
    files = repo(**{"pkg.mod": "def a():\n    return 1\n"})
    exists = run(files, "add_function", "pkg.mod", {"name": "a"}, source="def a():\n    pass\n")
    assert isinstance(exists, Failed) and "already exists" in exists.error
    wrong = run(files, "add_function", "pkg.mod", {"name": "b"}, source="def c():\n    pass\n")
    assert isinstance(wrong, Failed) and "`c`" in wrong.error and "`b`" in wrong.error


def test_add_method_at_class_indentation_and_replacing_pass() -> None:
    files = repo(**{"pkg.mod": dedent(TWO_CLASSES) + "\n\nclass C:\n    pass\n"})
    src = 'def __repr__(self):\n    return "A()"\n'
    out = applied(run(files, "add_method", "pkg.mod.A", {"name": "__repr__"}, source=src))
    assert '        return 2\n\n    def __repr__(self):\n        return "A()"\n\n\nclass B' in out
    assert out.count("__repr__") == 1 and "class B:\n    def run(self, x):" in out
    out = applied(run(files, "add_method", "pkg.mod.C", {"name": "__repr__"}, source=src))
    assert out.endswith('class C:\n    def __repr__(self):\n        return "A()"\n')
    dup = run(files, "add_method", "pkg.mod.A", {"name": "other"}, source="def other(self): pass")
    assert isinstance(dup, Failed) and "already has `other`" in dup.error


# ---------------------------------------------------------------------------- add_docstring


def test_add_docstring_to_method_keeps_doctest_lines() -> None:
    files = repo(**{"pkg.mod": TWO_CLASSES})
    text = "Add one.\n\nExample:\n\n    >>> A().run(1)\n    2\n"
    out = applied(run(files, "add_docstring", "pkg.mod.A.run", docstring=text))
    assert (
        '    def run(self, x):\n        """Add one.\n\n        Example:\n\n'
        '            >>> A().run(1)\n            2\n        """\n        # keep me\n'
    ) in out
    assert "class B:\n    def run(self, x):\n        return x - 1" in out


def test_add_docstring_follows_the_files_quotes_and_replaces_only_when_asked() -> None:
    src = "def f():\n    '''Old.'''\n    return 1\n\n\ndef g():\n    ''\n    return 2\n"
    files = repo(**{"pkg.mod": src})
    assert isinstance(run(files, "add_docstring", "pkg.mod.f", docstring="New."), Skipped)
    out = applied(run(files, "add_docstring", "pkg.mod.f", {"replace": True}, docstring="New."))
    assert "def f():\n    '''New.'''\n    return 1" in out
    out = applied(run(files, "add_docstring", "pkg.mod.g", docstring="Two."))
    assert "def g():\n    '''Two.'''\n    return 2" in out


def test_add_docstring_escapes_quotes_and_backslashes() -> None:
    files = repo(**{"pkg.mod": "def f():\n    return 1\n"})
    text = 'Say """hi""" and C:\\path.'
    out = applied(run(files, "add_docstring", "pkg.mod.f", docstring=text))
    tree = ast.parse(out)
    assert ast.get_docstring(tree.body[0]) == text  # type: ignore[arg-type]
    raw = repo(**{"pkg.mod": "def f():\n    return 1\n", "pkg.other": 'def g():\n    r"""\\d"""\n'})
    out = applied(run(raw, "add_docstring", "pkg.mod.f", docstring="Match \\d+ digits."))
    assert 'r"""Match \\d+ digits."""' in out


def test_add_docstring_to_module_and_class() -> None:
    files = repo(**{"pkg.mod": "from __future__ import annotations\n\n\nclass K: x = 1\n"})
    out = applied(run(files, "add_docstring", "pkg.mod", docstring="The module."))
    assert out.startswith('"""The module."""\n\nfrom __future__ import annotations\n')
    out = applied(run(files, "add_docstring", "pkg.mod.K", docstring="A K."))
    assert 'class K:\n    """A K."""\n    x = 1\n' in out
    missing = run(files, "add_docstring", "pkg.mod.K")
    assert isinstance(missing, Failed) and "`docstring` slot" in missing.error


# ---------------------------------------------------------------------------- add_annotations

ANN_SRC = """
    import os


    def scale(x, factor=2, *args, **kw):
        # the comment stays
        return x * factor


    class A:
        def run(self, x):
            return x
    """


def test_add_annotations_transfers_onto_the_original_body() -> None:
    files = repo(**{"pkg.mod": ANN_SRC})
    src = "def scale(x: float, factor: int = 2, *args: int, **kw: str) -> float:\n    return x * factor\n"
    out = applied(run(files, "add_annotations", "pkg.mod.scale", source=src))
    assert "def scale(x: float, factor: int = 2, *args: int, **kw: str) -> float:\n" in out
    assert "    # the comment stays\n    return x * factor" in out
    assert "def run(self, x):" in out


def test_add_annotations_refuses_a_changed_body() -> None:
    files = repo(**{"pkg.mod": ANN_SRC})
    src = "def scale(x: float, factor: int = 3) -> float:\n    return x * factor\n"
    result = run(files, "add_annotations", "pkg.mod.scale", source=src)
    assert isinstance(result, Failed)
    assert "pkg.mod.scale changed beyond annotations" in result.error and "factor=3" in result.error


def test_add_annotations_needs_imports_for_unknown_names() -> None:
    files = repo(**{"pkg.mod": ANN_SRC})
    src = "def run(self, x: Optional[int]) -> Optional[int]:\n    return x\n"
    result = run(files, "add_annotations", "pkg.mod.A.run", source=src)
    assert isinstance(result, Failed) and "from typing import Optional" in result.error
    out = applied(
        run(
            files,
            "add_annotations",
            "pkg.mod.A.run",
            source=src,
            imports=["from typing import Optional"],
        )
    )
    assert out.startswith("import os\nfrom typing import Optional\n")
    assert "def run(self, x: Optional[int]) -> Optional[int]:" in out


def test_add_annotations_for_a_module_with_sources_mapping() -> None:
    files = repo(**{"pkg.mod": ANN_SRC})
    sources = {
        "pkg.mod.A.run": "def run(self, x: int) -> int:\n    return x\n",
        "scale": "def scale(x: float, factor=2, *args, **kw) -> float:\n    return x * factor\n",
    }
    out = applied(run(files, "add_annotations", "pkg.mod", sources=sources))
    assert "def run(self, x: int) -> int:" in out and "def scale(x: float, factor=2" in out


def test_add_annotations_fallback_uses_any() -> None:
    files = repo(
        **{"pkg.mod": dedent(ANN_SRC) + "\n    def __init__(self, y):\n        self.y = y\n"}
    )
    result = run(files, "add_annotations", "pkg.mod.A")
    out = applied(result)
    assert "from typing import Any" in out
    assert "def run(self, x: Any) -> Any:" in out and "def __init__(self, y: Any) -> None:" in out
    assert "def scale(x, factor=2" in out  # outside the target
    assert isinstance(result, Applied) and "weak fallback" in result.notes[0]


# ---------------------------------------------------------------------------- decorators


@pytest.mark.parametrize(
    ("before", "target", "decorator", "after"),
    [
        pytest.param(
            '"""Doc."""\n\n\n@other\ndef f(x):\n    return x\n',
            "pkg.mod.f",
            "functools.lru_cache(maxsize=256)",
            '"""Doc."""\n\nimport functools\n\n\n@functools.lru_cache(maxsize=256)\n@other\ndef f(x):\n    return x\n',
            id="outermost_with_import",
        ),
        pytest.param(
            "class P:\n    x: int = 0\n",
            "pkg.mod.P",
            "dataclass",
            "from dataclasses import dataclass\n\n\n@dataclass\nclass P:\n    x: int = 0\n",
            id="known_name_import_on_a_class",
        ),
    ],
)
def test_add_decorator_before_after(before: str, target: str, decorator: str, after: str) -> None:
    files = repo(**{"pkg.mod": before})
    out = applied(run(files, "add_decorator", target, {"decorator": decorator}))
    assert out == after


def test_add_decorator_stays_below_staticmethod_and_skips_existing() -> None:
    files = repo(
        **{
            "pkg.mod": """
            from functools import lru_cache


            class A:
                @staticmethod
                def f(x):
                    return x

                @lru_cache
                def g(self):
                    return 1
            """
        }
    )
    out = applied(run(files, "add_decorator", "pkg.mod.A.f", {"decorator": "functools.cache"}))
    assert "    @staticmethod\n    @functools.cache\n    def f(x):" in out
    assert out.startswith("from functools import lru_cache\nimport functools\n")
    again = run(files, "add_decorator", "pkg.mod.A.g", {"decorator": "functools.lru_cache"})
    assert isinstance(again, Skipped)
    unknown = run(files, "add_decorator", "pkg.mod.A.g", {"decorator": "retry(3)"})
    assert isinstance(unknown, Failed) and "`retry` is not defined" in unknown.error


def test_remove_decorator_by_qualified_name() -> None:
    files = repo(
        **{
            "pkg.mod": """
            import functools
            from functools import lru_cache as lc


            @lc(maxsize=2)
            @other
            def f():
                pass


            @functools.lru_cache
            def g():
                pass
            """
        }
    )
    out = applied(run(files, "remove_decorator", "pkg.mod", {"decorator": "functools.lru_cache"}))
    assert "@other\ndef f():" in out and "\n\ndef g():" in out and "@lc" not in out
    none = run(files, "remove_decorator", "pkg.mod.f", {"decorator": "functools.wraps"})
    assert isinstance(none, Skipped)


# ---------------------------------------------------------------------------- modernize fstring

FSTRING_CASES = [
    ("'%s-%r' % (a, b)", "f'{a}-{b!r}'"),
    ("'%5s|%-4s|%.2s' % (a, a, a)", "f'{a!s:>5}|{a!s:<4}|{a!s:.2}'"),
    ("'%d items, %05.1f%%' % (len(b), 2.5)", "f'{len(b):d} items, {2.5:05.1f}%'"),
    ("'{%s}' % (a,)", "f'{{{a}}}'"),
    ('"%(x)s and %(y)r" % {"x": a, "y": b}', 'f"{a} and {b!r}"'),
    ("'<%s>' % name", "f'<{name}>'"),
    ("'%s' % d['k']", "'%s' % d['k']"),
    ("'%d' % a", "'%d' % a"),
    ("'%s' % a", "f'{a}'"),  # a plain parameter: only a caller's bug makes it a tuple
    ("'{} {!r} {x:>4}'.format(a, b, x=n)", "f'{a} {b!r} {n:>4}'"),
    ("'{0.real}{0.imag}{1[k]}'.format(a, d)", "f'{a.real}{a.imag}{d[\"k\"]}'"),
    ("'{}'.format(d['k'])", "f\"{d['k']}\""),
    ("'{0}{0}'.format(f())", "'{0}{0}'.format(f())"),
    ("'{}'.format(*b)", "'{}'.format(*b)"),
    ("b'%s' % (a,)", "b'%s' % (a,)"),
    ("('%s, ' 'then %r' % (a, b))", "f'{a}, ' f'then {b!r}'"),
    ("('%s, '\n            'then %r' % (a, b))", "(f'{a}, '\n            f'then {b!r}')"),
    ("'%*d' % (3, n)", "'%*d' % (3, n)"),
    ("'{}{}'.format(a,  # why\n            b)", "'{}{}'.format(a,  # why\n            b)"),
    ("'{.upper}'.format('a' 'b')", "f\"{('a' 'b').upper}\""),
    ("'{:>8}|{!r:^9}'.format(a, b)", "f'{a:>8}|{b!r:^9}'"),
    ("'%s' % (lambda: 1,)", "f'{(lambda: 1)}'"),
]


@pytest.mark.parametrize(("before", "after"), FSTRING_CASES)
def test_fstring_conversions(before: str, after: str) -> None:
    prelude = "name = 'n'\nn = 3\nd = {'k': 'v'}\n"
    files = repo(**{"pkg.mod": f"{prelude}\n\ndef f(a, b):\n    return {before}  # keep\n"})
    result = run(files, "modernize", "pkg.mod", {"idiom": "fstring"})
    want = f"{prelude}\n\ndef f(a, b):\n    return {after}  # keep\n"
    if before == after:
        assert isinstance(result, Skipped)
        assert "line 7: left" in result.reason or before.startswith("b")
    else:
        assert applied(result) == want
        outputs = []
        for code in (files.sources["pkg/mod.py"], want):
            namespace: dict[str, Any] = {}
            exec(compile(code, "m", "exec"), namespace)
            out = namespace["f"](1.5, "x'y")
            outputs.append(out if isinstance(out, str) else "lambda")
        assert outputs[0] == outputs[1]


def test_fstring_only_in_target_function_and_reports_skips() -> None:
    src = 'def f(x):\n    return "%s" % x\n\n\ndef g(y):\n    return "%s!" % (y,)\n'
    result = run(repo(**{"pkg.mod": src}), "modernize", "pkg.mod.g", {"idiom": "fstring"})
    out = applied(result)
    assert 'return "%s" % x' in out and 'return f"{y}!"' in out
    src = 'def f(x):\n    x = g()\n    return "%s" % x\n\n\ndef g(y):\n    return "%s!" % (y,)\n'

    result = run(repo(**{"pkg.mod": src}), "modernize", "pkg.mod", {"idiom": "fstring"})
    assert isinstance(result, Applied)
    assert any("line 3: left" in n and "could hold a tuple" in n for n in result.notes)


def test_fstring_folds_textwrap_dedent_into_lines() -> None:
    src = dedent(
        '''
        from textwrap import dedent


        def doc(a):
            return dedent("""\\
                Hello {name}
                  indented {{x}}
                """).format(name=a)
        '''
    )
    out = applied(run(repo(**{"pkg.mod": src}), "modernize", "pkg.mod", {"idiom": "fstring"}))
    assert out == dedent(
        """
        def doc(a):
            return (
                f"Hello {a}\\n"
                "  indented {x}\\n"
            )
        """
    )


CACHED_METHOD = """
    class CachedMethod:
        def __init__(self, func, scoped=True, typed=False, bound_to=None):
            self.func, self.scoped, self.typed, self.bound_to = func, scoped, typed, bound_to

        def __repr__(self):
            cn = self.__class__.__name__
            args = (cn, self.func, self.scoped, self.typed)
            if self.bound_to is not None:
                args += (self.bound_to,)
                return ('<%s func=%r scoped=%r typed=%r bound_to=%r>' % args)
            return ("%s(func=%r, scoped=%r, typed=%r)" % args)
    """


def test_fstring_indexes_a_bare_name_for_two_or_more_specifiers() -> None:
    src = dedent(CACHED_METHOD)
    result = run(repo(**{"pkg.mod": src}), "modernize", "pkg.mod", {"idiom": "fstring"})
    out = applied(result)
    assert out == src.replace(
        "return ('<%s func=%r scoped=%r typed=%r bound_to=%r>' % args)",
        "return f'<{args[0]} func={args[1]!r} scoped={args[2]!r} typed={args[3]!r}"
        " bound_to={args[4]!r}>'",
    ).replace(
        'return ("%s(func=%r, scoped=%r, typed=%r)" % args)',
        'return f"{args[0]}(func={args[1]!r}, scoped={args[2]!r}, typed={args[3]!r})"',
    )
    assert list(result.notes) == ["fstring: converted 2 in pkg.mod"]
    classes = []
    for code in (src, out):
        namespace: dict[str, Any] = {}
        exec(compile(code, "m", "exec"), namespace)
        classes.append(namespace["CachedMethod"])
    for values in [
        (len, True, False, None),
        ('it\'s "q"', "s", {"k": "v'"}, None),
        (print, False, True, "b'o\"und"),
        (None, 0, 1.5, ("t",)),
    ]:
        old, new = (repr(cls(*values)) for cls in classes)
        assert old == new


def test_fstring_indexes_an_attribute_chain_proven_on_a_tuple() -> None:
    src = "def f(self):\n    return '%s and %r' % self.pair\n"
    out = applied(run(repo(**{"pkg.mod": src}), "modernize", "pkg.mod", {"idiom": "fstring"}))
    assert out == "def f(self):\n    return f'{self.pair[0]} and {self.pair[1]!r}'\n"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("'<%s>' % x", "could hold a tuple"),  # one specifier: x may or may not be a 1-tuple
        ("'%d items' % x", "could hold a tuple"),
        ("'%d of %d' % x", "%d of `x[0]`, which may not be an int"),
        ("'%s %s' % get()", "could hold a tuple"),  # indexing would call get() twice
        ("'%s %s' % x.y()", "could hold a tuple"),
        ("'%s %s' % d['k']", "could hold a tuple"),
        ("'%(a)s %(b)s' % x", "could hold a tuple"),
        ("'%*d %s' % x", "could hold a tuple"),
    ],
)
def test_fstring_leaves_unprovable_single_operands(line: str, reason: str) -> None:
    src = f"def f(get, d):\n    x = get()\n    return {line}\n"
    result = run(repo(**{"pkg.mod": src}), "modernize", "pkg.mod", {"idiom": "fstring"})
    assert isinstance(result, Skipped), result
    assert "line 3: left" in result.reason and reason in result.reason


# ---------------------------------------------------------------------------- builtin generics


def test_builtin_generics_and_unused_typing_imports() -> None:
    src = dedent(
        """
        import typing
        from typing import Dict, List, Optional


        def f(x: List[int], y: typing.Tuple[int, ...]) -> Dict[str, Optional[int]]:
            return {}
        """
    )
    out = applied(
        run(repo(**{"pkg.mod": src}), "modernize", "pkg.mod", {"idiom": "builtin_generics"})
    )
    assert out == dedent(
        """
        from typing import Optional


        def f(x: list[int], y: tuple[int, ...]) -> dict[str, Optional[int]]:
            return {}
        """
    )


def test_builtin_generics_respects_requires_python(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nrequires-python = ">=3.7"\n')
    src = (
        "from typing import List\n\nAlias = List[int]\n\n\ndef f(x: List[int]) -> None:\n    pass\n"
    )
    files = RepoFiles(tmp_path, {"pkg/mod.py": src}, {"pkg/mod.py": "pkg.mod"})
    old = run(files, "modernize", "pkg.mod", {"idiom": "builtin_generics"})
    assert isinstance(old, Failed) and "3.7" in old.error
    future = "from __future__ import annotations\n" + src
    files = RepoFiles(tmp_path, {"pkg/mod.py": future}, {"pkg/mod.py": "pkg.mod"})
    out = applied(run(files, "modernize", "pkg.mod", {"idiom": "builtin_generics"}))
    assert "Alias = List[int]" in out and "def f(x: list[int])" in out


def test_modernize_pathlib_without_source_is_a_codemod_with_source_edits() -> None:
    files = repo(**{"pkg.mod": "import os\n\n\ndef p(d):\n    return os.path.join(d, 'x')\n"})
    codemod = applied(run(files, "modernize", "pkg.mod.p", {"idiom": "pathlib"}))
    assert "return str(Path(d, 'x'))" in codemod  # no slot: the deterministic codemod
    src = "def p(d):\n    return str(Path(d) / 'x')\n"
    out = applied(
        run(
            files,
            "modernize",
            "pkg.mod.p",
            {"idiom": "pathlib"},
            source=src,
            imports=["from pathlib import Path"],
        )
    )
    assert "from pathlib import Path" in out and "str(Path(d) / 'x')" in out


# ---------------------------------------------------------------------------- real projects

SDISTS = Path.home() / ".cache" / "patchbench" / "sdists"
UNPACKED = Path("/tmp/pb")


def project(name: str, tmp_path: Path) -> Path:
    """A fresh copy of an unpacked sdist (unpacked from the cache when missing)."""
    src = UNPACKED / name
    if not src.is_dir():
        archive = SDISTS / f"{name}.tar.gz"
        assert archive.is_file(), f"missing {archive}: the patchbench sdists are not cached"
        UNPACKED.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive) as tar:
            tar.extractall(UNPACKED, filter="data")
    dest = tmp_path / name
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return dest


def apply_to(root: Path, op: str, target: str, params: Mapping[str, Any]) -> Applied:
    result = apply_operation(RepoFiles.load(root), Operation(op, target, dict(params)), {})
    assert isinstance(result, Applied), result
    for rel, text in result.changes.items():
        (root / rel).write_text(text, encoding="utf-8")
    return result


def py(root: Path, code: str) -> str:
    env = {**os.environ, "PYTHONPATH": ".", "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def pytest_passes(root: Path, *paths: str) -> None:
    env = {**os.environ, "PYTHONPATH": ".", "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-x",
        "-p",
        "no:cacheprovider",
        "--doctest-modules",
    ]
    done = subprocess.run(
        [*cmd, *paths], cwd=root, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


def remaining_formats(path: Path) -> list[int]:
    """Lines that still %-interpolate or call .format on a literal (or dedent(literal))."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
            left = node.left
            if isinstance(left, ast.Constant) and isinstance(left.value, str):
                lines.append(node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            lines += [node.lineno] if node.func.attr == "format" else []
    return lines


TOOLZ_PROBE = """
import sys
from toolz.functoolz import compose, excepts
def inc(x):
    '''Add one.'''
    return x + 1
def handler(e):
    '''Handle it.'''
    return None
print(repr(compose(len, str)))
print(excepts(ValueError, int, handler).__doc__)
print(excepts((ValueError, TypeError), inc, handler).__doc__)
print(excepts(ValueError, int, handler).__name__)
"""

BOLTONS_PROBE = """
from boltons.cacheutils import LRI, LRU, CachedFunction, CachedMethod, cached
print(repr(LRI(max_size=3, values={'a': 1})))
print(repr(LRU(max_size=2, on_miss=len)))
print(repr(CachedFunction(len, {}, scoped=False)))
print(repr(CachedFunction(len, {}, typed=True)))
print(repr(CachedFunction(len, {})))
class Quoted:
    def __repr__(self):
        return "Quoted('it\\'s', \\"x\\")"
    def m(self):
        return 1
    m = CachedMethod(m, {}, typed=True)
print(repr(Quoted.m).replace(hex(id(Quoted.__dict__['m'].func)), 'ID'))
print(repr(Quoted().m).replace(hex(id(Quoted.__dict__['m'].func)), 'ID'))
"""


@pytest.mark.slow
def test_toolz_functoolz_fstrings_are_byte_identical(tmp_path: Path) -> None:
    root = project("toolz-1.2.0", tmp_path)
    before = py(root, TOOLZ_PROBE)
    result = apply_to(root, "modernize", "toolz.functoolz", {"idiom": "fstring"})
    assert result.notes[0].startswith("fstring: converted")
    assert remaining_formats(root / "toolz" / "functoolz.py") == []
    assert ".format(" not in (root / "toolz" / "functoolz.py").read_text()
    assert py(root, TOOLZ_PROBE) == before
    pytest_passes(root, "toolz")


@pytest.mark.slow
def test_boltons_cacheutils_fstrings_keep_reprs(tmp_path: Path) -> None:
    root = project("boltons-26.2.0", tmp_path)
    before = py(root, BOLTONS_PROBE)
    result = apply_to(root, "modernize", "boltons.cacheutils", {"idiom": "fstring"})
    assert list(result.notes) == ["fstring: converted 9 in boltons.cacheutils"]
    assert remaining_formats(root / "boltons" / "cacheutils.py") == []  # `% args` included
    assert "bound_to={args[4]!r}>'" in (root / "boltons" / "cacheutils.py").read_text()
    assert "bound_to=Quoted('it's', \"x\")>" in before
    assert py(root, BOLTONS_PROBE) == before
    pytest_passes(root, "boltons", "tests")


@pytest.mark.slow
def test_boltons_lru_cache_on_camel2under_keeps_doctests(tmp_path: Path) -> None:
    root = project("boltons-26.2.0", tmp_path)
    params = {"decorator": "functools.lru_cache(maxsize=256)"}
    apply_to(root, "add_decorator", "boltons.strutils.camel2under", params)
    text = (root / "boltons" / "strutils.py").read_text()
    assert "@functools.lru_cache(maxsize=256)\ndef camel2under(" in text
    assert "import functools" in text
    out = py(
        root,
        "from boltons.strutils import camel2under as c; print(c('BasicParseTest'), c.cache_info().misses)",
    )
    assert out.split() == ["basic_parse_test", "1"]
    pytest_passes(root, "boltons/strutils.py", "tests/test_strutils.py")


@pytest.mark.parametrize(
    "src",
    [
        "def f(t=(1,)):\n    return '%s' % t\n",
        "def f(t: tuple[int, ...]):\n    return '%s' % t\n",
        "def f(*t):\n    return '%s' % t\n",
    ],
)
def test_fstring_leaves_parameters_that_may_be_tuples(src: str) -> None:
    result = run(repo(**{"pkg.mod": src}), "modernize", "pkg.mod", {"idiom": "fstring"})
    assert isinstance(result, Skipped)
    assert "could hold a tuple" in result.reason

"""Reads of ``self`` attributes that nothing gives the instance (``unknown_attributes``)."""

from __future__ import annotations

import textwrap

from agent.verify.attributes import unknown_attributes


def reads(source: str) -> list[str]:
    return [f["message"].split("`")[3] for f in unknown_attributes(textwrap.dedent(source))]


def test_an_invented_attribute_in_a_new_method_is_found() -> None:
    source = """
        class Signer:
            default_sep = "."

            def __init__(self, secret_keys, sep=None):
                self.secret_keys = list(secret_keys)
                if sep is not None:
                    self.sep = sep

            def __repr__(self):
                return f"Signer({self.key!r}, {self.sep!r}, {self.default_sep!r})"
    """
    assert reads(source) == ["self.key"]
    (finding,) = unknown_attributes(textwrap.dedent(source))
    assert finding["code"] == "AP001" and finding["row"] == 11 and finding["class"] == "Signer"


def test_everything_the_class_and_its_bases_give_is_known() -> None:
    source = """
        from dataclasses import dataclass

        class Base:
            limit = 3

            @property
            def size(self):
                return len(self.items)

            def reset(self):
                self.items = []

        class Child(Base):
            def grow(self):
                self.extra: int = 1
                for self.cursor in range(self.limit):
                    pass
                return self.size + self.extra + self.cursor + self.__class__.__name__.count("x")

        @dataclass
        class Point:
            x: int
            y: int = 0

            def norm(self):
                return self.x + self.y

        class Counter(dict):
            def total(self):
                return sum(self.values())

        class Helper:
            @staticmethod
            def make(self):
                return self.anything

            @classmethod
            def build(cls):
                return cls.default

            default = None
    """
    assert reads(source) == []


def test_classes_whose_attributes_cannot_be_told_are_left_alone() -> None:
    source = """
        import abc
        from elsewhere import Base

        class FromElsewhere(Base):
            def f(self):
                return self.unknown

        class Dynamic:
            def __getattr__(self, name):
                return name

            def f(self):
                return self.unknown

        class Meta(metaclass=abc.ABCMeta):
            def f(self):
                return self.unknown

        class Setter:
            def __init__(self, **kw):
                for k, v in kw.items():
                    setattr(self, k, v)

            def f(self):
                return self.unknown

        class Inherits(FromElsewhere):
            def g(self):
                return self.other
    """
    assert reads(source) == []


def test_a_mixin_knows_what_its_subclasses_here_set() -> None:
    source = """
        class ReprMixin:
            def __repr__(self):
                return f"<{self.name} {self.age}>"

        class Person(ReprMixin):
            def __init__(self, name):
                self.name = name
    """
    assert reads(source) == ["self.age"]


def test_text_that_does_not_parse_has_no_findings() -> None:
    assert unknown_attributes("class A(:\n") == []

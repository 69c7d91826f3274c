"""`edit` of a class by members: only the changed/new methods are sent and merged in."""

from __future__ import annotations

import pytest

from agent.codemods.base import Failed
from tests.agent.codemods.test_content import applied, dedent, repo, run

CLASS = dedent(
    '''
    """Saving."""
    import os


    class Saver:
        """Saves."""

        def __init__(self, path):
            # where it goes
            self.path = path

        @property
        def part(self):
            return self.path + ".part"

        def save(self, data):
            with open(self.part, "w") as fh:
                fh.write(data)
            os.replace(self.part, self.path)


    def helper():
        return "save(x)"
    '''
)


def test_changed_and_new_methods_are_merged_and_the_rest_is_untouched() -> None:
    reply = dedent(
        """
        import logging

        log = logging.getLogger(__name__)

        def save(self, data):
            log.debug("writing %s", self.part)
            with open(self.part, "w") as fh:
                fh.write(data)
            os.replace(self.part, self.path)

        def __repr__(self):
            return f"Saver({self.path!r})"
        """
    )
    out = applied(run(repo(**{"pkg.mod": CLASS}), "edit", "pkg.mod.Saver", {}, source=reply))
    assert out == dedent(
        '''
        """Saving."""
        import os
        import logging

        log = logging.getLogger(__name__)


        class Saver:
            """Saves."""

            def __init__(self, path):
                # where it goes
                self.path = path

            @property
            def part(self):
                return self.path + ".part"

            def save(self, data):
                log.debug("writing %s", self.part)
                with open(self.part, "w") as fh:
                    fh.write(data)
                os.replace(self.part, self.path)

            def __repr__(self):
                return f"Saver({self.path!r})"


        def helper():
            return "save(x)"
        '''
    )


def test_a_full_class_reply_still_replaces_the_class() -> None:
    reply = "class Saver:\n    def save(self, data):\n        return data\n"
    out = applied(run(repo(**{"pkg.mod": CLASS}), "edit", "pkg.mod.Saver", {}, source=reply))
    assert "def part" not in out and "return data" in out


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ('def part(self):\n    return self.path + ".part"\n', "identical to the current"),
        ("def save(self):\n    pass\nfor x in y:\n    pass\n", "neither a method"),
    ],
)
def test_unusable_member_replies_are_explained(reply: str, message: str) -> None:
    result = run(repo(**{"pkg.mod": CLASS}), "edit", "pkg.mod.Saver", {}, source=reply)
    assert isinstance(result, Failed) and message in result.error

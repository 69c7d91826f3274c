from agent.draft.docstring_text import copies_issue, tidy_docstring

ISSUE = (
    "`mathutils.Bits` has a nice class docstring, but none of its conversion methods are "
    "documented, so the API reference just lists bare names."
)


def test_repeated_sentences_are_dropped_and_prose_is_wrapped() -> None:
    text = "Return the bits as hex. " + "The template is padded with zeros on the left. " * 4
    out = tidy_docstring(text, width=40)
    assert out.count("padded with zeros") == 1
    assert out.startswith("Return the bits as hex.")
    assert all(len(line) <= 40 for line in out.splitlines())


def test_length_is_capped_at_a_sentence_boundary() -> None:
    text = " ".join(f"Sentence number {i} says something new." for i in range(20))
    out = tidy_docstring(text)
    assert out.count("Sentence number") == 5
    assert out.endswith("new.")


def test_doctests_and_indented_blocks_are_kept_verbatim() -> None:
    text = "Parse an int.\n\n>>> parse('1')\n1\n\nArgs:\n    s: the text, which is long enough to wrap if it were prose at all"
    out = tidy_docstring(text, width=30)
    assert ">>> parse('1')\n1" in out
    assert "    s: the text, which is long enough to wrap if it were prose at all" in out


def test_copying_the_issue_is_detected() -> None:
    parrot = "Bits has a nice class docstring, but none of its conversion methods are documented."
    assert copies_issue(parrot, ISSUE)
    assert not copies_issue("Return the value as an int, most significant bit first.", ISSUE)
    assert not copies_issue("Short.", "Short issue.")


CART = """\
def calc_total(prices, tax=0.2):
    return round(sum(prices) * (1 + tax), 2)


class Cart:
    def add(self, name, price, quantity=1):
        self.items[name] = (price, quantity)

    def total(self, tax=0.2):
        return calc_total([p * q for p, q in self.items.values()], tax)
"""
TOTAL = """\
def total(self, tax=0.2):
    return calc_total([p * q for p, q in self.items.values()], tax)
"""


def test_a_summary_that_lists_its_neighbours_is_no_description() -> None:
    from agent.draft.docstring_text import lists_neighbours

    listed = lists_neighbours("Cart methods: add, total.", TOTAL, CART)
    assert listed is not None and "lists definitions (add, total)" in listed
    assert lists_neighbours("See `add` and `calc_total`.", TOTAL, CART) is not None
    # naming what the code itself uses, itself, or one neighbour in passing describes it
    assert lists_neighbours("Sum of the items via calc_total, with tax.", TOTAL, CART) is None
    assert lists_neighbours("Return the total price of the cart.", TOTAL, CART) is None
    assert lists_neighbours("The Cart's total, like add but summed.", TOTAL, CART) is None
    assert lists_neighbours("total and calc_total agree.", TOTAL, CART) is None  # both used
    assert lists_neighbours("Cart methods: add, total.", TOTAL, "") is None  # no module given

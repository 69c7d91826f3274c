import pytest

from shop import Cart, calc_total


def test_calc_total():
    assert calc_total([10, 20], tax=0) == 30
    assert calc_total([10]) == 12


def test_cart_total():
    cart = Cart()
    cart.add("apple", 2, quantity=3)
    cart.add("pear", 1)
    assert cart.total(tax=0) == 7


def test_add_rejects_zero():
    with pytest.raises(ValueError):
        Cart().add("x", 1, quantity=0)

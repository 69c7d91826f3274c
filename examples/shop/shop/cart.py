"""A tiny shopping cart, used as autopatch's demo repository."""

TAX_RATE = 0.2


def calc_total(prices, tax=TAX_RATE):
    """Sum of prices plus tax."""
    return round(sum(prices) * (1 + tax), 2)


class Cart:
    """Items with a price and a quantity."""

    def __init__(self):
        self.items = {}

    def add(self, name, price, quantity=1):
        if quantity < 1:
            raise ValueError("quantity must be at least 1")
        old_price, old_quantity = self.items.get(name, (price, 0))
        self.items[name] = (price, old_quantity + quantity)

    def total(self, tax=TAX_RATE):
        return calc_total([price * quantity for price, quantity in self.items.values()], tax)

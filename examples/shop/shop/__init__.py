from shop.cart import Cart, calc_total

__all__ = ["Cart", "calc_total"]

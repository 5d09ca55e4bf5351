"""The shop's pages."""

from catalog.views import product_list
from django.urls import path
from orders.views import order_form

urlpatterns = [
    path("products/", product_list, name="products"),
    path("order/", order_form, name="order"),
]

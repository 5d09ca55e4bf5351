"""The shop's pages."""

from catalog.views import product_list
from contact.views import contact_form
from django.urls import path
from orders.views import order_form

urlpatterns = [
    path("products/", product_list, name="products"),
    path("order/", order_form, name="order"),
    path("contact/", contact_form, name="contact"),
]

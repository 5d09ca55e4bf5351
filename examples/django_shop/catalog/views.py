"""The product list page."""

from django.shortcuts import render

from .models import Product


def product_list(request):
    return render(request, "catalog/products.html", {"products": Product.objects.all()})

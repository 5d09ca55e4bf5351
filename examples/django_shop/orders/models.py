"""Orders placed through the order form."""

from catalog.models import Product
from django.db import models


class Order(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE)
    quantity = models.PositiveIntegerField()
    email = models.EmailField()

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product}"

"""The order form: a product by name, a quantity the stock can cover, an e-mail address."""

from catalog.models import Product
from django import forms


class OrderForm(forms.Form):
    product = forms.ModelChoiceField(Product.objects.all(), to_field_name="name")
    quantity = forms.IntegerField(min_value=1)
    email = forms.EmailField()

    def clean(self):
        data = super().clean()
        product, quantity = data.get("product"), data.get("quantity")
        if product is not None and quantity is not None and quantity > product.stock:
            raise forms.ValidationError(f"Only {product.stock} {product.name} left")
        return data

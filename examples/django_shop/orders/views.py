"""The order page: a valid order takes stock and mails a confirmation."""

from django.core.mail import send_mail
from django.db import transaction
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from .forms import OrderForm
from .models import Order


@csrf_exempt  # the example keeps its steps to plain HTTP posts
def order_form(request):
    form = OrderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        product = form.cleaned_data["product"]
        with transaction.atomic():
            order = Order.objects.create(
                product=product,
                quantity=form.cleaned_data["quantity"],
                email=form.cleaned_data["email"],
            )
            product.stock -= order.quantity
            product.save()
        send_mail(
            f"Your order: {order}",
            f"Thank you for ordering {order}.",
            None,
            [order.email],
        )
        return render(request, "orders/thanks.html", {"order": order})
    return render(request, "orders/order.html", {"form": form}, status=400 if form.errors else 200)

"""The contact page: a valid message is mailed to the shop, with the sender to reply to."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.shortcuts import render

from .forms import ContactForm


def contact_form(request):
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        sender = form.cleaned_data
        EmailMessage(
            f"Message from {sender['name']}",
            sender["message"],
            None,
            [settings.DEFAULT_FROM_EMAIL],
            reply_to=[sender["email"]],
        ).send()
        return render(request, "contact/thanks.html", {"sender": sender})
    return render(
        request, "contact/contact.html", {"form": form}, status=400 if form.errors else 200
    )

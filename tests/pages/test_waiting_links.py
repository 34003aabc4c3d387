"""Waiting for me: every customer named links to the one customer page, amounts are money."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from customers.models import Customer
from salesforce_tasks.models import Action, CustomerTarget, RepPair, SalesRep, Team

pytestmark = pytest.mark.django_db


def test_waiting_for_me_links_each_customer_to_its_page(manager_user, small_dataset):
    team = Team.objects.create(name="Noord", manager=manager_user)
    out = SalesRep.objects.create(code="o", name="O", kind="outside", team=team)
    ins = SalesRep.objects.create(code="i", name="I", kind="inside", team=team)
    pair = RepPair.objects.create(code="N1", team=team, outside_rep=out, inside_rep=ins)
    c1, c2 = Customer.objects.get(external_id="C1"), Customer.objects.get(external_id="C2")
    Customer.objects.filter(pk__in=[c1.pk, c2.pk]).update(pair=pair)
    CustomerTarget.objects.create(
        customer=c1, period=small_dataset[2025], target_revenue=Decimal("12345"), proposed_by_pair=True
    )
    Action.objects.create(customer=c2, period=small_dataset[2025], type=Action.Type.OTHER, description="call")
    client = Client()
    client.force_login(manager_user, backend="django.contrib.auth.backends.ModelBackend")
    html = client.get(reverse("salesforce:organisation:waiting"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'<a href="{reverse("customers:detail", args=[c1.pk])}?tab=sales">{c1.name}</a>' in html
    assert f'<a href="{reverse("customers:detail", args=[c2.pk])}?tab=actions">{c2.name}</a>' in html
    assert "€12,345" in html and "12345" not in html

"""One open stay a guest a hotel. Before the constraint, stays left open twice by the race it
closes are closed: each older open stay of a (hotel, guest) at the check-in of the next one."""

from django.db import migrations, models
from django.db.models import Count


def close_duplicate_open_stays(apps, schema_editor):
    HotelStay = apps.get_model("hotels", "HotelStay")
    open_stays = HotelStay.objects.filter(checked_out_at__isnull=True)
    pairs = open_stays.values("hotel_id", "person_id").annotate(n=Count("id")).filter(n__gt=1)
    for pair in pairs.iterator():
        stays = list(
            open_stays.filter(hotel_id=pair["hotel_id"], person_id=pair["person_id"]).order_by("checked_in_at", "id")
        )
        for older, newer in zip(stays, stays[1:], strict=False):
            HotelStay.objects.filter(pk=older.pk).update(checked_out_at=newer.checked_in_at)


class Migration(migrations.Migration):
    dependencies = [
        ("hotels", "0002_nat_seen_and_overviews"),
    ]

    operations = [
        migrations.RunPython(close_duplicate_open_stays, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="hotelstay",
            constraint=models.UniqueConstraint(
                condition=models.Q(("checked_out_at__isnull", True)),
                fields=("hotel", "person"),
                name="hotelstay_one_open",
            ),
        ),
    ]

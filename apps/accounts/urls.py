"""The second factor of a staff login (`/admin/second-factor/…`, ahead of the admin's own URLs)."""

from django.urls import path

from . import views

app_name = "second_factor"

urlpatterns = [
    path("", views.setup, name="setup"),
    path("verify/", views.verify, name="verify"),
]

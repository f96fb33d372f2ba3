"""One router for every app's API views."""

from django.urls import path  # noqa: F401

app_name = "api"
urlpatterns: list = []

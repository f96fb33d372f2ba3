from django.urls import path

from .views import HotelStayCheckOutView, HotelStaysView

urlpatterns = [
    path("hotel-stays/", HotelStaysView.as_view(), name="hotel-stays"),
    path("hotel-stays/<str:hotel_stay_id>/check-out/", HotelStayCheckOutView.as_view(), name="hotel-stay-check-out"),
]

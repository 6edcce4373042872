from django.urls import path

from . import views

urlpatterns = [
    path("security/", views.security, name="account_security"),
    path("preferences/", views.preferences, name="account_preferences"),
    path("preferences/time-zone/", views.detected_time_zone, name="account_detected_time_zone"),
    path("language/", views.set_language, name="set_language"),
]

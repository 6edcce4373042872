from django.urls import path

from . import views

app_name = "rooms"
urlpatterns = [
    path("", views.index, name="index"),
    path("rooms/<str:slug>/", views.room, name="room"),
    path("dm/<str:username>/", views.direct, name="direct"),
    path("people/", views.people, name="people"),
]

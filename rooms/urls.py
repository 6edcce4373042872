from django.urls import path

from . import views
from .files import views as files
from .notify import views as notify

app_name = "rooms"
urlpatterns = [
    path("", views.index, name="index"),
    path("rooms/<int:room_id>/history/", views.history, name="history"),
    path("rooms/<int:room_id>/mentionable/", views.mentionable, name="mentionable"),
    path("rooms/<int:room_id>/leave/", views.leave, name="leave"),
    path("rooms/<int:room_id>/invite/", views.invite, name="invite"),
    path("rooms/<int:room_id>/members/<int:user_id>/remove/", views.remove_member, name="remove_member"),
    path("rooms/<int:room_id>/involvement/", views.involvement, name="involvement"),
    path("rooms/<int:room_id>/settings/", views.room_settings, name="settings"),
    path("rooms/<str:slug>/", views.room, name="room"),
    path("rooms/<str:slug>/join/", views.join, name="join"),
    path("dm/<str:username>/", views.direct, name="direct"),
    path("g/<int:room_id>/", views.group, name="group"),
    path("groups/new/", views.start_group, name="start_group"),
    path("m/<int:message_id>/", views.permalink, name="permalink"),
    path("m/<int:message_id>/source/", views.source, name="source"),
    path("rooms/<int:room_id>/files/", files.upload, name="upload"),
    path("files/<int:attachment_id>/discard/", files.discard, name="discard_upload"),
    path("files/<int:attachment_id>/thumbnail/", files.thumbnail, name="thumbnail"),
    path("files/<int:attachment_id>/<str:name>", files.file, name="file"),
    path("link-previews/<int:preview_id>/image/", views.link_image, name="link_image"),
    path("people/", views.people, name="people"),
    path("switch/", views.switch, name="switch"),
    path("read-all/", views.read_all, name="read_all"),
    path("emoji/", views.emoji, name="emoji"),
    path("mentions/", views.mentions, name="mentions"),
    path("search/", views.search, name="search"),
    path("notifications/", notify.notifications, name="notifications"),
    path("notifications/devices/", notify.subscribe, name="subscribe"),
    path("notifications/devices/forget/", notify.forget_device, name="forget_device"),
    path("notifications/test/", notify.send_test, name="test_notification"),
    path("notifications/unsubscribe/<str:token>/", notify.unsubscribe, name="unsubscribe"),
    path("sw.js", notify.service_worker, name="service_worker"),
    path("manifest.webmanifest", notify.manifest, name="manifest"),
    path("offline/", notify.offline, name="offline"),
]

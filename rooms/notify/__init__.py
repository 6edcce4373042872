"""Notifications: who hears of which message (decide.py), what it says (content.py), the pass the task worker
runs after messages are sent (passes.py), Web Push to devices (push.py), email when away (away.py), and the
settings page, devices, service worker and app manifest (views.py)."""

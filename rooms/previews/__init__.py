"""Link previews' network side, knowing no models: the guarded fetch (fetch.py), what a page says of itself
(opengraph.py) and the card made of both (card.py). Storing a card on its message is
rooms/services/previews.py's."""

from .card import Card, build, thumbnail
from .fetch import Blocked, Refused

__all__ = ["Blocked", "Card", "Refused", "build", "thumbnail"]

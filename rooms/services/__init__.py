"""The chat's one path for every change, one module per feature: rooms (the list, creating, joining),
membership (leaving, inviting, removing, involvement, settings, private/open, archiving), conversations (direct
and group), messages (send, edit, remove), reactions, mentions (@names, @here, the Mentions page), read_state
(read marks, unread counts, the sidebar), history, catch_up, previews (link cards), files (uploads,
thumbnails, purging), search (messages, people and rooms for the search box), and store (the send path's SQL).
Views, consumers and the moderation app call the names gathered here; the feature modules import each other
directly."""

from ..errors import ChatError
from .catch_up import CATCH_UP_LIMIT, CATCH_UP_MAX_BYTES, catch_up_frame
from .conversations import (
    direct_room,
    dm_partner_ids,
    existing_direct_room,
    group_name,
    group_room,
    other_member,
    start_direct,
)
from .files import discard_upload, parse_file_ids, readable_file, upload
from .history import PAGE_SIZE, around, history, newer
from .membership import (
    invite,
    leave,
    may_invite,
    may_manage,
    remove_member,
    set_archived,
    set_involvement,
    set_private,
    update_settings,
)
from .mentions import mentions_of, suggest_mentions
from .messages import (
    PostResult,
    already_stored,
    clean_body,
    clean_text,
    delete_message,
    delete_messages,
    edit_message,
    parse_client_id,
    parse_number,
    post_message,
    source_of,
)
from .previews import link_image
from .reactions import react, remove_reactions
from .read_state import counts, mark_all_read, mark_read, sidebar, unread_frame
from .rooms import (
    clean_room_name,
    create_room,
    default_rooms,
    join,
    members,
    room_ids_of,
    room_list,
    visit,
    welcome,
)
from .search import QueryError, search

__all__ = [
    "CATCH_UP_LIMIT",
    "CATCH_UP_MAX_BYTES",
    "PAGE_SIZE",
    "ChatError",
    "PostResult",
    "QueryError",
    "already_stored",
    "around",
    "catch_up_frame",
    "clean_body",
    "clean_room_name",
    "clean_text",
    "counts",
    "create_room",
    "default_rooms",
    "delete_message",
    "delete_messages",
    "direct_room",
    "discard_upload",
    "dm_partner_ids",
    "edit_message",
    "existing_direct_room",
    "group_name",
    "group_room",
    "history",
    "invite",
    "join",
    "leave",
    "link_image",
    "mark_all_read",
    "mark_read",
    "may_invite",
    "may_manage",
    "members",
    "mentions_of",
    "newer",
    "other_member",
    "parse_client_id",
    "parse_file_ids",
    "parse_number",
    "post_message",
    "react",
    "readable_file",
    "remove_member",
    "remove_reactions",
    "room_ids_of",
    "room_list",
    "search",
    "set_archived",
    "set_involvement",
    "set_private",
    "sidebar",
    "source_of",
    "start_direct",
    "suggest_mentions",
    "unread_frame",
    "update_settings",
    "upload",
    "visit",
    "welcome",
]

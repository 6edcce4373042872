"""The peer: the Channels tutorial's chat design (one group per room, one group_send per message, each consumer
forwards the event to its socket), served by daphne over RedisChannelLayer. No auth, no database."""

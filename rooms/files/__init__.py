"""Files shared in rooms, the parts that are not the service (rooms/services/files.py): what a file is (kinds),
how a checked one is handed over (delivery), and the HTTP views for uploading and reading them (views)."""

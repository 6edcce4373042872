"""Search (rooms/services/search.py): what makes messages findable by any part of a word, in any language.

PostgreSQL: pg_trgm's trigram index on the text, for any piece of three characters or more (ILIKE); and, for
Chinese, Japanese and Korean queries of one or two characters (too short for trigrams), a column of each
message's CJK characters and pairs of characters as a tsvector, kept by a trigger and indexed. A column, not
an index on the expression: when a term is common, PostgreSQL reads the newest messages one by one, and for
a common pair on bench/search.py's million messages that took 38 ms checking the column, 500 ms computing
the grams again.
Not atomic: the column is added empty (no table rewrite), messages written before it get their grams in
batches, and the indexes are built CONCURRENTLY, so sends go on meanwhile.

SQLite: an FTS5 table with the trigram tokenizer over the messages' text, kept in step by triggers. A later
migration that makes SQLite rebuild rooms_message (an AlterField, say) drops these triggers with the old
table and must create them again: tests/test_search.py's SQLite run fails without them.

Every statement may run again (IF NOT EXISTS, OR REPLACE), so a migration stopped half way is finished by
running it again.
"""

from django.db import migrations

# The same characters as rooms/search_query.py's CJK: kana, Han (with extension A and the compatibility
# ideographs), Hangul syllables, and Han beyond the Basic Multilingual Plane.
CJK = r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f]"
BATCH = 10_000  # ids per transaction when filling the column for older messages

POSTGRESQL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # Every CJK character and every pair of neighbours, as lexemes: '部署' is in the text exactly when the
    # lexeme '部署' is in its grams. NULL for a text without any.
    rf"""CREATE OR REPLACE FUNCTION rooms_cjk_grams(body text) RETURNS tsvector
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
            SELECT array_to_tsvector(array_agg(substr(run[1], i, n)))
            FROM regexp_matches(body, '{CJK}+', 'g') AS run,
                 generate_series(1, char_length(run[1])) AS i,
                 (VALUES (1), (2)) AS size(n)
            WHERE i + n - 1 <= char_length(run[1])
        $$""",
    "ALTER TABLE rooms_message ADD COLUMN IF NOT EXISTS cjk_grams tsvector",
    """CREATE OR REPLACE FUNCTION rooms_message_cjk_grams() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.cjk_grams := rooms_cjk_grams(NEW.body);
            RETURN NEW;
        END
        $$""",
    "DROP TRIGGER IF EXISTS rooms_message_cjk_grams ON rooms_message",
    """CREATE TRIGGER rooms_message_cjk_grams BEFORE INSERT OR UPDATE OF body ON rooms_message
        FOR EACH ROW EXECUTE FUNCTION rooms_message_cjk_grams()""",
    # Then fill_grams, for the messages written before the trigger; then the indexes.
]
POSTGRESQL_INDEXES = [
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS rooms_message_cjk_grams ON rooms_message USING gin (cjk_grams)",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS rooms_message_body_trgm ON rooms_message USING gin (body gin_trgm_ops)",
    # The planner guesses how many messages ILIKE '%term%' finds by trying it on a sample of texts, the
    # column's histogram: 100 of them (the default) tell 1% from nothing, 1,000 tell 0.1%, enough for it to
    # choose between the index (a rare term) and reading the newest messages first (a common one).
    "ALTER TABLE rooms_message ALTER COLUMN body SET STATISTICS 1000",
    "ANALYZE rooms_message",  # the planner's view of the new column and the sample, before the first search
]
POSTGRESQL_REVERSE = [
    "ALTER TABLE rooms_message ALTER COLUMN body SET STATISTICS -1",
    "DROP INDEX CONCURRENTLY IF EXISTS rooms_message_body_trgm",
    "DROP INDEX CONCURRENTLY IF EXISTS rooms_message_cjk_grams",
    "DROP TRIGGER IF EXISTS rooms_message_cjk_grams ON rooms_message",
    "DROP FUNCTION IF EXISTS rooms_message_cjk_grams()",
    "ALTER TABLE rooms_message DROP COLUMN IF EXISTS cjk_grams",
    "DROP FUNCTION IF EXISTS rooms_cjk_grams(text)",
]

SQLITE = [
    """CREATE VIRTUAL TABLE IF NOT EXISTS rooms_message_search
        USING fts5(body, content='rooms_message', content_rowid='id', tokenize='trigram')""",
    """CREATE TRIGGER IF NOT EXISTS rooms_message_search_insert AFTER INSERT ON rooms_message BEGIN
        INSERT INTO rooms_message_search (rowid, body) VALUES (new.id, new.body);
    END""",
    """CREATE TRIGGER IF NOT EXISTS rooms_message_search_delete AFTER DELETE ON rooms_message BEGIN
        INSERT INTO rooms_message_search (rooms_message_search, rowid, body) VALUES ('delete', old.id, old.body);
    END""",
    """CREATE TRIGGER IF NOT EXISTS rooms_message_search_update AFTER UPDATE OF body ON rooms_message BEGIN
        INSERT INTO rooms_message_search (rooms_message_search, rowid, body) VALUES ('delete', old.id, old.body);
        INSERT INTO rooms_message_search (rowid, body) VALUES (new.id, new.body);
    END""",
    "INSERT INTO rooms_message_search (rooms_message_search) VALUES ('rebuild')",  # the messages so far
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS rooms_message_search_update",
    "DROP TRIGGER IF EXISTS rooms_message_search_delete",
    "DROP TRIGGER IF EXISTS rooms_message_search_insert",
    "DROP TABLE IF EXISTS rooms_message_search",
]


def fill_grams(schema_editor) -> None:
    """The grams of the messages written before the trigger, BATCH ids per statement (the migration is not
    atomic: each commits), so no lock is held for long."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM rooms_message")
        last = cursor.fetchone()[0]
        for start in range(0, last, BATCH):
            cursor.execute(
                f"""UPDATE rooms_message SET cjk_grams = rooms_cjk_grams(body)
                WHERE id > %s AND id <= %s AND cjk_grams IS NULL AND body ~ '{CJK}'""",
                [start, start + BATCH],
            )


def execute(schema_editor, statements: list[str]) -> None:
    for statement in statements:
        schema_editor.execute(statement, params=None)


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        execute(schema_editor, POSTGRESQL)
        fill_grams(schema_editor)
        execute(schema_editor, POSTGRESQL_INDEXES)
    elif vendor == "sqlite":
        execute(schema_editor, SQLITE)


def drop(apps, schema_editor):
    execute(
        schema_editor,
        {"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}.get(schema_editor.connection.vendor, []),
    )


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction
    dependencies = [
        ("rooms", "0015_room_kinds"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]

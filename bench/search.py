"""Search speed on a big history: 1,000,000 messages across 1,000 rooms and conversations, on PostgreSQL.

    .venv/bin/python bench/search.py                 # builds the database once (about two minutes), then measures
    .venv/bin/python bench/search.py --rebuild       # drops it and builds it again

The database (`--database`, default `roomcast_bench_search` on 127.0.0.1:5432, trust auth) is migrated up to the
migrations before room kinds and search, filled with COPY (people, 500 open rooms, 500 direct conversations,
messages in English, Chinese and both, with links, mentions and tickets, spread over a year, 1% removed), then
migrated to the end: that last step builds search's indexes, and its time is printed. Then one person, who reads
every open room and 10 conversations of their own (about two thirds of the messages: the access filter is
applied), searches for single words, parts of words, two Chinese characters, phrases and `from:` with a word
(and, for comparison, three Chinese characters, and the page with nothing typed): each query once to warm up and
`--repeat` times measured, through the search service (what a search costs: parsing, the messages with their
ranking and page, the people and rooms) and through the whole page (Django's test client: the session, the
sidebar, the template). Prints p50 and p95 per kind of query, and a JSON line."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = "postgres://postgres@127.0.0.1:5432"

# What people write in a team chat, most frequent first (frequencies fall off as 1/rank).
ENGLISH = """
the to i a and is it you we for on that this in of be can will just not do have are at so if but with it's i'm
ok yes no thanks please what when how now today tomorrow there here get need think know see let me my our your
about one more some also all up out going would should could any was were been done did does new still check
meeting team build release deploy review change fix bug issue test tests branch merge server database query
cache page error log logs config update version client user users account login password email message room
call later week morning afternoon night time minute hour day monday friday lunch coffee doc docs design plan
draft notes slides demo customer feedback ticket sprint standup retro roadmap priority blocker estimate scope
migration index search performance latency memory disk network proxy redis postgres python django template
frontend backend mobile browser chrome firefox safari keyboard screen layout button form modal sidebar header
footer style color theme dark light font icon image upload download file folder share link preview report
dashboard metric alert incident outage rollback hotfix patch staging production environment variable secret
token session cookie permission admin moderator channel thread reply reaction mention notification badge
unread history archive export import backup restore schedule calendar invite holiday vacation travel office
remote hiring interview onboarding contract invoice budget quarter revenue launch marketing campaign website
analytics experiment hypothesis result chart spreadsheet summary agenda decision question answer idea
proposal approval sign-off deadline milestone dependency upgrade library package framework compiler runtime
container kubernetes cluster node worker queue task job cron pipeline artifact registry certificate domain
firewall latency throughput benchmark profile flamegraph regression refactor cleanup typo rename lint format
deployment configuration authentication authorization internationalization translation localization timezone
accessibility contrast screenreader keyboard navigation shortcut highlight snippet permalink pagination
relevance ranking recency tokenizer trigram fulltext substring unicode emoji markdown codeblock syntax
elephant giraffe penguin dolphin kangaroo octopus butterfly hedgehog flamingo raccoon
avocado croissant dumpling espresso lasagna pancake pretzel tortilla noodle mango
zeppelin lighthouse volcano glacier canyon meadow harbor orchard prairie tundra
""".split()

CHINESE = """
我们 今天 明天 已经 可以 需要 问题 一下 这个 那个 什么 怎么 没有 知道 觉得 现在 时候 还是 因为 所以
但是 如果 然后 开会 会议 部署 上线 发布 测试 修复 代码 服务器 数据库 性能 优化 搜索 索引 缓存 日志
版本 更新 功能 需求 设计 文档 用户 账号 密码 登录 页面 按钮 手机 电脑 浏览器 网络 延迟 内存 磁盘
项目 计划 进度 周报 总结 反馈 客户 产品 市场 运营 预算 合同 发票 报告 数据 指标 告警 故障 回滚
周一 周五 上午 下午 晚上 中午 午饭 咖啡 开心 辛苦 谢谢 好的 没问题 收到 稍等 马上 注意 重要 紧急
北京 上海 深圳 杭州 广州 成都 出差 请假 放假 团队 同事 老板 经理 工程师 设计师 实习生 面试 招聘
翻译 中文 英文 时区 键盘 快捷键 高亮 链接 预览 附件 图片 文件 下载 上传 分享 评论 回复 提醒 通知
熊猫 长城 故宫 火锅 饺子 包子 月饼 茶叶 龙井 梅花
""".split()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="roomcast_bench_search")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true", help="drop the database and build it again")
    parser.add_argument("--queries", type=int, default=20, help="different queries of each kind")
    parser.add_argument("--repeat", type=int, default=5, help="measured runs of each query")
    parser.add_argument("--seed", type=int, default=7)
    return parser


# ---- building the database --------------------------------------------------------------------------------

OPEN_ROOMS, DIRECT_ROOMS, PEOPLE, READER_DIRECTS = 500, 500, 2_000, 10
DIRECT_SHARE = 0.35  # of the messages: people write a lot to each other


def psql(database: str, sql: str) -> str:
    done = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-XAtqc", sql],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def manage(database: str, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env["DATABASE_URL"] = f"{SERVER}/{database}"
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


class Writer:
    """Messages as people write them: mostly English or Chinese, some both, some with a link, a mention, a
    ticket number or a file name."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.english = [1 / (rank + 8) for rank in range(len(ENGLISH))]
        self.chinese = [1 / (rank + 8) for rank in range(len(CHINESE))]

    def words(self, count: int) -> list[str]:
        return self.rng.choices(ENGLISH, self.english, k=count)

    def english_text(self) -> str:
        words = self.words(max(2, int(self.rng.lognormvariate(2.1, 0.6))))
        roll = self.rng.random()
        if roll < 0.06:
            words.insert(self.rng.randrange(len(words) + 1), f"https://example.com/{self.rng.choice(ENGLISH)}")
        elif roll < 0.10:
            words.insert(0, f"@user{self.rng.randrange(1, PEOPLE + 1):04d}")
        elif roll < 0.16:
            words.append(f"PROJ-{self.rng.randrange(1, 20_000)}")
        elif roll < 0.19:
            words.append(f"`{self.rng.choice(ENGLISH)}.{self.rng.choice(['py', 'js', 'yaml', 'sql'])}`")
        text = " ".join(words)
        return text[0].upper() + text[1:] + self.rng.choice([".", "", "!", "?", "..."])

    def chinese_text(self) -> str:
        parts = self.rng.choices(CHINESE, self.chinese, k=max(2, int(self.rng.lognormvariate(1.8, 0.5))))
        for _ in range(len(parts) // 5):
            parts.insert(self.rng.randrange(1, len(parts)), "，")
        return "".join(parts) + self.rng.choice(["。", "！", "？", ""])

    def text(self) -> str:
        roll = self.rng.random()
        if roll < 0.70:
            return self.english_text()
        if roll < 0.95:
            return self.chinese_text()
        return f"{self.chinese_text()} {self.english_text()}"


def copy(cursor, table: str, columns: str, rows) -> None:
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copying:
        for row in rows:
            copying.write_row(row)


def build(database: str, messages: int, seed: int) -> None:
    import psycopg

    rng = random.Random(seed)
    psql("postgres", f"DROP DATABASE IF EXISTS {database}")
    psql("postgres", f"CREATE DATABASE {database}")
    manage(database, "migrate", "-v0", "rooms", "0014_link_preview")
    started = time.monotonic()
    now = dt.datetime.now(dt.UTC)
    year_ago = now - dt.timedelta(days=365)
    with psycopg.connect(f"{SERVER}/{database}", autocommit=True) as db, db.cursor() as cursor:
        # People: user0001 reads (see READER_DIRECTS); the others write.
        copy(
            cursor,
            "auth_user",
            "id, username, email, password, is_superuser, is_staff, is_active, first_name, last_name, date_joined",
            (
                (i, f"user{i:04d}", f"user{i:04d}@bench.invalid", "!", False, False, True, "", "", year_ago)
                for i in range(1, PEOPLE + 1)
            ),
        )
        # Rooms 1-500 open (every 50th archived: still searchable), 501-1000 direct conversations; user0001 is
        # in the first READER_DIRECTS of them.
        rooms, members = [], {}
        for i in range(1, OPEN_ROOMS + 1):
            name = f"{ENGLISH[(i * 7) % len(ENGLISH)]} {CHINESE[i % len(CHINESE)]} {i}"
            archived = year_ago if i % 50 == 0 else None
            rooms.append((i, "open", name, f"room-{i}", None, archived is not None, archived))
            members[i] = rng.sample(range(2, PEOPLE + 1), 20)
        pairs = set()
        for i in range(OPEN_ROOMS + 1, OPEN_ROOMS + DIRECT_ROOMS + 1):
            while True:
                pair = (1, rng.randrange(2, PEOPLE + 1)) if i <= OPEN_ROOMS + READER_DIRECTS else None
                pair = pair or tuple(sorted(rng.sample(range(2, PEOPLE + 1), 2)))
                if pair not in pairs:
                    break
            pairs.add(pair)
            rooms.append((i, "direct", "", None, f"{pair[0]}:{pair[1]}", False, None))
            members[i] = list(pair)
        copy(
            cursor,
            "rooms_room",
            "id, kind, name, slug, direct_key, locked, archived_at, description, created_at, last_seq, is_default",
            ((*room, "", year_ago, 0, False) for room in rooms),
        )
        copy(
            cursor,
            "rooms_membership",
            "room_id, user_id, joined_at, last_read_seq",
            ((room, user, year_ago, 0) for room, people in members.items() for user in people),
        )
        # Messages, oldest first (ids follow time), busy rooms busier.
        open_weights = [1 / (i + 5) ** 0.8 for i in range(OPEN_ROOMS)]
        scale = (1 - DIRECT_SHARE) / sum(open_weights)
        weights = [w * scale for w in open_weights] + [DIRECT_SHARE / DIRECT_ROOMS] * DIRECT_ROOMS
        room_ids = list(members)
        seqs = dict.fromkeys(room_ids, 0)
        writer = Writer(rng)
        step = (now - year_ago) / messages

        def rows():
            for n, room in enumerate(rng.choices(room_ids, weights, k=messages)):
                seqs[room] += 1
                when = year_ago + step * n
                removed = when if rng.random() < 0.01 else None
                author = rng.choice(members[room])
                yield room, author, seqs[room], seqs[room], writer.text(), uuid.uuid4(), when, removed

        copy(
            cursor,
            "rooms_message",
            "room_id, author_id, seq, changed_seq, body, client_id, created_at, deleted_at",
            rows(),
        )
        # The room rows' counters, as sends would have left them, and everyone's read marks at the end (the
        # sidebar of every page counts what is unread); identity sequences past the ids given.
        cursor.execute(
            """UPDATE rooms_room SET last_seq = m.last, last_message_at = m.at
            FROM (SELECT room_id, max(seq) AS last, max(created_at) AS at FROM rooms_message GROUP BY room_id) m
            WHERE rooms_room.id = m.room_id"""
        )
        cursor.execute("UPDATE rooms_membership SET last_read_seq = r.last_seq FROM rooms_room r WHERE r.id = room_id")
        for table in ("auth_user", "rooms_room"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    print(f"[search] {messages:,} messages loaded in {time.monotonic() - started:.0f} s", file=sys.stderr)
    started = time.monotonic()
    manage(database, "migrate", "-v0")
    print(f"[search] migrated to the end (search's indexes) in {time.monotonic() - started:.0f} s", file=sys.stderr)
    psql(database, "VACUUM ANALYZE")


# ---- measuring --------------------------------------------------------------------------------------------


def queries(rng: random.Random, count: int) -> dict[str, list[str]]:
    """`count` queries of each kind, as people would type them, each with something to find."""
    from rooms.models import Message

    def english_messages() -> list:
        """Random messages of four words or more in open rooms, with their words."""
        found = []
        while len(found) < count:
            ids = [rng.randrange(1, 1_000_000) for _ in range(200)]
            for message in Message.objects.filter(pk__in=ids, room_id__lte=OPEN_ROOMS).select_related("author"):
                words = [w for w in message.body.split() if w.isalpha() and w.isascii()]
                if len(words) >= 4 and len(found) < count:
                    found.append((message, words))
        return found

    content = ENGLISH[20:]  # not "the", "to", "is": nobody searches for those
    long_words = [w for w in content if len(w) >= 7]
    phrases = []
    for _, words in english_messages():
        at = rng.randrange(len(words) - 2)
        phrases.append('"{}"'.format(" ".join(words[at : at + 3]).lower()))
    return {
        "nothing typed (the page alone)": [""] * count,
        "single word": rng.sample(content, count),
        "partial word": [w[(at := rng.randrange(3)) : at + rng.choice([4, 5])] for w in rng.sample(long_words, count)],
        "Chinese, two characters": rng.sample([w for w in CHINESE if len(w) == 2], count),
        "phrase": phrases,
        "from: and a word": [
            f"from:{m.author.username} {rng.choice([w for w in words if w.lower() in content] or words).lower()}"
            for m, words in english_messages()
        ],
        "Chinese, three characters": rng.sample([w for w in CHINESE if len(w) == 3], min(count, 8)),
    }


def percentile(times: list[float], share: float) -> float:
    times = sorted(times)
    return round(times[min(int(share * len(times)), len(times) - 1)], 1)


def measure(database: str, count: int, repeat: int, seed: int) -> list[dict]:
    os.environ["DATABASE_URL"] = f"{SERVER}/{database}"
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from rooms import services

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    reader = get_user_model().objects.get(username="user0001")
    client = Client()
    client.force_login(reader)
    rows = []
    for kind, texts in queries(random.Random(seed), count).items():
        service, page, found = [], [], []
        for text in texts:
            found.append(getattr(services.search(reader, text), "total", 0))  # the first run warms; not measured
            for _ in range(repeat):
                started = time.perf_counter()
                services.search(reader, text)
                service.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                response = client.get("/search/", {"q": text})
                page.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (text, response.status_code)
        rows.append(
            {
                "kind": kind,
                "queries": len(texts),
                "examples": texts[:3],
                "found (median)": int(statistics.median(found)),
                "service p50": percentile(service, 0.5),
                "service p95": percentile(service, 0.95),
                "page p50": percentile(page, 0.5),
                "page p95": percentile(page, 0.95),
            }
        )
        print(json.dumps(rows[-1], ensure_ascii=False), file=sys.stderr)
    return rows


def main() -> None:
    args = build_parser().parse_args()
    exists = psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{args.database}'") == "1"
    if args.rebuild or not exists:
        build(args.database, args.messages, args.seed)
    readable = psql(
        args.database,
        """SELECT count(*) FROM rooms_message m JOIN rooms_room r ON r.id = m.room_id WHERE m.deleted_at IS NULL
        AND (r.kind = 'open' OR EXISTS (SELECT 1 FROM rooms_membership WHERE room_id = r.id AND user_id = 1))""",
    )
    print(f"[search] user0001 may read {int(readable):,} of the messages", file=sys.stderr)
    rows = measure(args.database, args.queries, args.repeat, args.seed)
    print(f"{'query':<28} {'found':>6} {'service p50':>12} {'p95':>6} {'page p50':>9} {'p95':>6}")
    for r in rows:
        print(
            f"{r['kind']:<28} {r['found (median)']:>6} {r['service p50']:>12} {r['service p95']:>6}"
            f" {r['page p50']:>9} {r['page p95']:>6}"
        )
    print(json.dumps(rows, ensure_ascii=False))


if __name__ == "__main__":
    main()
